// A small deterministic YAML writer for the Traefik files: block style, two-space indent, every
// string double-quoted with JSON escapes (valid YAML 1.2, and what prettier leaves alone).
import { yamlString } from "./_escape.js";

/** toYaml writes a mapping of plain data as YAML (no trailing newline). */
export function toYaml(value: Record<string, unknown>): string {
  return lines(value, 0).join("\n");
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

function lines(value: unknown, indent: number): string[] {
  const pad = " ".repeat(indent);
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === "object" && !isEmpty(item)) {
        const inner = lines(item, indent + 2);
        out.push(`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
      } else out.push(`${pad}- ${isEmpty(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`);
    }
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : yamlString(k);
    if (v !== null && typeof v === "object" && !isEmpty(v)) out.push(`${pad}${key}:`, ...lines(v, indent + 2));
    else out.push(`${pad}${key}: ${isEmpty(v) ? (Array.isArray(v) ? "[]" : "{}") : scalar(v)}`);
  }
  return out;
}
