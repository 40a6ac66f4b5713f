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
 * MappingText collects the entries of one block mapping as text pieces, joined a few thousand at a
 * time: no object or string per entry or line (at 10,000 sites those cost most of a second, most
 * of it garbage collection). `entry` is a template tag: the template's fixed text and the values
 * are pushed as they are, so each run of fixed text is one piece. Keys must not repeat (the
 * Traefik backend names entries so that they cannot: siteKeys).
 */
export class MappingText {
  private parts: (string | number)[] = [];
  private readonly chunks: string[] = [];
  /** Write the keys of the next entries quoted (set when they are not bare, see bareKey). */
  quoteKeys = false;

  /** entry adds one entry: lines ending in "\n", the first `    KEY:`; values are YAML text or numbers. */
  entry(strings: TemplateStringsArray, ...values: (string | number)[]): void {
    if (this.quoteKeys) return this.quotedEntry(strings, values);
    const parts = this.parts;
    if (strings[0] !== "") parts.push(strings[0]!);
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== "") parts.push(values[i]!);
      if (strings[i + 1] !== "") parts.push(strings[i + 1]!);
    }
    // Join every few thousand pieces: the array stays small and young, the pieces are still in
    // the cache, and the chunk is big enough for V8 to allocate it where the young GC never copies.
    if (parts.length >= CHUNK_PIECES) {
      this.chunks.push(parts.join(""));
      this.parts = [];
    }
  }

  /** write writes `head` (ending in a colon) and the entries, or `head {}` when there are none. */
  write(head: string): string {
    if (this.parts.length === 0 && this.chunks.length === 0) return `${head} {}\n`;
    let text = `${head}\n`;
    for (const chunk of this.chunks) text += chunk;
    return text + this.parts.join("");
  }

  private quotedEntry(strings: TemplateStringsArray, values: (string | number)[]): void {
    let text = strings[0]!;
    for (let i = 0; i < values.length; i++) text += `${values[i]}${strings[i + 1]}`;
    const from = text.search(/\S/);
    const to = text.indexOf(":\n");
    this.parts.push(`${text.slice(0, from)}${yamlString(text.slice(from, to))}${text.slice(to)}`);
  }
}

// --- internal ---

const CHUNK_PIECES = 8192;

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
