// A small deterministic YAML writer for the Traefik files: block style, two-space indent, every
// string double-quoted with JSON escapes (valid YAML 1.2, and what prettier leaves alone).
// toYaml writes a tree of plain data; for the big dynamic file, traefik.ts writes each entry's
// text itself (same layout) and MappingText keeps the entries in object order.
import { yamlString } from "./_escape.js";

/** toYaml writes a mapping of plain data as YAML (no trailing newline), `indent` spaces deep. */
export function toYaml(value: Record<string, unknown>, indent = 0): string {
  const out: string[] = [];
  lines(value, indent, out);
  return out.join("\n");
}

/** bareKey tells whether a mapping key is written without quotes. */
export function bareKey(key: string): boolean {
  return BARE_KEY.test(key);
}

/** yamlInner is yamlString without the quotes, to splice into a quoted string between ASCII text. */
export function yamlInner(value: string): string {
  const q = yamlString(value);
  return q.length === value.length + 2 ? value : q.slice(1, -1);
}

/**
 * MappingText collects the entries of one block mapping as text pieces, joined once at the end
 * (a string per entry or line costs seconds of garbage collection at 10,000 sites). Push an
 * entry's pieces (its lines, key line first, each ending in "\n") between begin() and end().
 * When keys may repeat, a key written again keeps its first place and takes the new text, as
 * assigning to an object does; that costs a Map of every key, so it is asked for.
 */
export class MappingText {
  readonly parts: string[] = [];
  private readonly seen: Map<string, { start: number; end: number }> | undefined;
  private start = 0;

  constructor(keysMayRepeat: boolean) {
    this.seen = keysMayRepeat ? new Map() : undefined;
  }

  /** begin starts an entry. */
  begin(): void {
    this.start = this.parts.length;
  }

  /** end ends the entry begun last, whose key is `key` + `keyEnd` (joined only when needed). */
  end(key: string, more = "", more2 = ""): void {
    if (!this.seen) return;
    const k = key + more + more2;
    const old = this.seen.get(k);
    if (!old) {
      this.seen.set(k, { start: this.start, end: this.parts.length });
      return;
    }
    this.parts[old.start] = this.parts.slice(this.start).join("");
    this.parts.fill("", old.start + 1, old.end);
    this.parts.length = this.start;
  }

  /** write writes `head` (ending in a colon) and the entries, or `head {}` when there are none. */
  write(head: string): string {
    return this.parts.length === 0 ? `${head} {}\n` : `${head}\n${this.parts.join("")}`;
  }
}

// --- internal ---

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function scalar(v: unknown): string {
  if (typeof v === "string") return yamlString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  throw new Error(`internal: cannot write ${typeof v} as YAML`);
}

function isEmpty(v: unknown): boolean {
  return v !== null && typeof v === "object" && Object.keys(v as object).length === 0;
}

/** lines appends `value`'s lines to `out` (one shared array: no spreads, which overflow the stack at 10,000 sites). */
function lines(value: unknown, indent: number, out: string[]): void {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === "object" && !isEmpty(item)) {
        const first = out.length;
        lines(item, indent + 2, out);
        out[first] = `${pad}- ${out[first]!.trimStart()}`;
      } else out.push(`${pad}- ${isEmpty(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`);
    }
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = BARE_KEY.test(k) ? k : yamlString(k);
    if (v !== null && typeof v === "object" && !isEmpty(v)) {
      out.push(`${pad}${key}:`);
      lines(v, indent + 2, out);
    } else out.push(`${pad}${key}: ${isEmpty(v) ? (Array.isArray(v) ? "[]" : "{}") : scalar(v)}`);
  }
}
