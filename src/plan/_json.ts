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
  if (PLAIN.test(s)) return `"${s}"`;
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

// Printable ASCII but " $ \ { }: written as they are.
const PLAIN = /^[\x20\x21\x23\x25-\x5b\x5d-\x7a\x7c\x7e]*$/;
const SHORT: Record<string, string> = { "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * print renders `value` starting at column `col`, on a line indented by `indent` spaces;
 * `trail` is 1 when a comma follows on the same line (prettier counts it when measuring).
 */
function print(value: unknown, indent: number, col: number, trail = 0): string {
  if (value === null || typeof value === "boolean") return String(value);
  // prettier writes exponents without "+" (1e21); JSON parsers read both.
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value).replace("e+", "e") : "null";
  if (typeof value === "string") return jsonString(value);
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v, i) => print(v, indent + 2, indent + 2, i < value.length - 1 ? 1 : 0));
    const flat = `[${items.join(", ")}]`;
    if (!items.some((i) => i.includes("\n")) && !breaksAlways(value) && col + flat.length + trail <= PRINT_WIDTH) return flat;
    if (value.length > 1 && value.every((v) => typeof v === "number")) return `[\n${pad}${fill(items, indent + 2)}\n${" ".repeat(indent)}]`;
    return `[\n${items.map((i) => pad + i).join(",\n")}\n${" ".repeat(indent)}]`;
  }
  if (typeof value === "object") {
    const object = value as Record<string, unknown>;
    let keys = Object.keys(object);
    if (keys.some((k) => object[k] === undefined)) keys = keys.filter((k) => object[k] !== undefined);
    if (keys.length === 0) return "{}";
    // Objects stay expanded: prettier keeps an object broken when its source was.
    let out = "{\n";
    for (let i = 0; i < keys.length; i++) {
      const key = `${jsonString(keys[i]!)}: `;
      out += pad + key + print(object[keys[i]!], indent + 2, indent + 2 + key.length, i < keys.length - 1 ? 1 : 0) + (i < keys.length - 1 ? ",\n" : "\n");
    }
    return out + " ".repeat(indent) + "}";
  }
  return "null";
}

/** prettier breaks an array of several arrays (each with 2+ items) or several 2+-key objects. */
function breaksAlways(value: unknown[]): boolean {
  const kind = (v: unknown) => (Array.isArray(v) ? (v.length > 1 ? "array" : "") : v !== null && typeof v === "object" ? (Object.keys(v).length > 1 ? "object" : "") : "");
  const first = kind(value[0]);
  return value.length > 1 && first !== "" && value.every((v) => kind(v) === first);
}

/** fill lays out numbers as prettier's fill does: as many per line as fit, comma after each. */
function fill(items: string[], start: number): string {
  let out = "";
  let pos = start;
  items.forEach((item, i) => {
    const content = i < items.length - 1 ? `${item},` : item;
    out += content;
    pos += content.length;
    const next = items[i + 1];
    if (next === undefined) return;
    const nextContent = i + 1 < items.length - 1 ? `${next},` : next;
    if (pos + 1 + nextContent.length <= PRINT_WIDTH) {
      out += " ";
      pos += 1;
    } else {
      out += "\n" + " ".repeat(start);
      pos = start;
    }
  });
  return out;
}
