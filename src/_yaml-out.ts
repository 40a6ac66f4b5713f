// A small deterministic YAML writer for the Traefik files: block style, two-space indent, every
// string double-quoted with JSON escapes (valid YAML 1.2, and what prettier leaves alone).
import { yamlString } from "./_escape.js";

/** toYaml writes a mapping of plain data as YAML (no trailing newline). */
export function toYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  lines(value, 0, out);
  return out.join("\n");
}

// --- internal ---

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
    const key = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : yamlString(k);
    if (v !== null && typeof v === "object" && !isEmpty(v)) {
      out.push(`${pad}${key}:`);
      lines(v, indent + 2, out);
    } else out.push(`${pad}${key}: ${isEmpty(v) ? (Array.isArray(v) ? "[]" : "{}") : scalar(v)}`);
  }
}
