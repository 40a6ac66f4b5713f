// Paths, positions and wording shared by every stage that reports problems.
import type { Diagnostic, LoadedSite, Position } from "../types.js";

/** joinPath appends a key or index to a JSON path: `sites[0].homeserver`, `client["org.x.y"]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** pointerToPath turns a JSON pointer (`/sites/0/tls`) into our path syntax. */
export function pointerToPath(pointer: string): string {
  if (pointer === "") return "";
  return pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<string>((acc, part) => joinPath(acc, /^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part), "");
}

/** locate finds the best position for `path`: the key or value itself, else its nearest parent. */
export function locate(loaded: LoadedSite, path: string, prefer: "key" | "value" = "value"): Position {
  for (let p: string | null = path; p !== null; p = parentPath(p)) {
    const hit = loaded.positions.get(p);
    if (hit) return (prefer === "key" && hit.key) || (p === path ? hit.value : hit.key ?? hit.value);
  }
  return { line: 1, column: 1 };
}

/** diagnostic builds an error at `path` of a loaded file. */
export function diagnostic(loaded: LoadedSite, path: string, message: string, prefer: "key" | "value" = "value"): Diagnostic {
  const pos = locate(loaded, path, prefer);
  return { file: loaded.file, line: pos.line, column: pos.column, path, message, severity: "error" };
}

/** formatDiagnostic renders `file:line:col path: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const kind = d.severity === "warning" ? " warning:" : "";
  return d.path ? `${where}${kind} ${d.path}: ${d.message}` : `${where}${kind} ${d.message}`;
}

/** sortDiagnostics orders problems by position so the list reads top to bottom. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

/** show renders a user value for a message: JSON, control characters visible, long values cut. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = text.replace(/[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** didYouMean returns the closest candidate within a small edit distance, if any. */
export function didYouMean(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best !== undefined && bestScore <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

// --- internal ---

function parentPath(path: string): string | null {
  if (path === "") return null;
  const m = /^(.*?)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\]|\["(?:[^"\\]|\\.)*"\])$/.exec(path);
  return m ? m[1]! : "";
}

/** distance is the optimal-string-alignment edit distance (a swap of neighbours counts 1). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
