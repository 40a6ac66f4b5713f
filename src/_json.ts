// The canonical bytes of a well-known document. Every backend serves exactly these bytes, and
// out/well-known/ holds them too, so "equivalent" can be checked byte for byte.
//
// Two choices make the bytes safe to inline in any config syntax:
//  - Inside JSON strings only printable ASCII is written raw, minus `$` (nginx interpolates it
//    and has no escape), `{` `}` (Caddy placeholders) and `"` (Caddy's quoted tokens cannot hold
//    a backslash before a quote, so \" is avoided). Those and every non-ASCII or invisible
//    character are written as \uXXXX, which any JSON parser turns back into the same value. The
//    remaining structure ({ } outside strings, quotes, backslashes, newlines) is escaped per
//    backend by src/_escape.ts.
//  - The layout is what prettier's JSON printer produces (objects expanded, short arrays on one
//    line), so formatting tools leave committed output alone.

const PRINT_WIDTH = 80;

/** canonicalJson serialises a JSON value as the bytes mxproxy serves, with a trailing newline. */
export function canonicalJson(value: unknown): string {
  return print(value, 0, 0) + "\n";
}

/** jsonString writes one string as an ASCII-safe JSON string literal. */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === "\\") out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e && ch !== '"' && ch !== "$" && ch !== "{" && ch !== "}") out += ch;
    else out += SHORT[ch] ?? "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

// --- internal ---

const SHORT: Record<string, string> = { "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** print renders `value` starting at column `col` of a line indented by `indent` spaces. */
function print(value: unknown, indent: number, col: number): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "string") return jsonString(value);
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => print(v, indent + 2, indent + 2));
    const flat = `[${items.join(", ")}]`;
    // A trailing comma may follow on the same line; prettier counts it when deciding to break.
    if (!items.some((i) => i.includes("\n")) && col + flat.length + 1 <= PRINT_WIDTH) return flat;
    return `[\n${items.map((i) => pad + i).join(",\n")}\n${" ".repeat(indent)}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const lines = entries.map(([k, v]) => {
      const key = `${jsonString(k)}: `;
      return pad + key + print(v, indent + 2, indent + 2 + key.length);
    });
    return `{\n${lines.join(",\n")}\n${" ".repeat(indent)}}`;
  }
  return "null";
}
