// Writes plain data as YAML text for the hostile-input and property tests, and records the line
// of every value so a test can assert that an error names it. Every string is a double-quoted
// scalar in which only printable ASCII appears raw; everything else is a YAML escape, so any
// value (NUL, lone surrogates, LS/PS, bidi marks) reaches the loader exactly, and the test can
// check that by comparing the loaded value with the data it started from.
// `style: "plain"` writes strings unquoted where YAML reads them back as the same string, to
// exercise the loader's other scalar styles in the property tests.

export type Path = (string | number)[];

export interface YamlText {
  text: string;
  /** Line (1-based) of each value, keyed by JSON.stringify(path). */
  lines: Map<string, number>;
  /** Line of each key written on a line of its own ("? key", for keys over 1000 characters). */
  keys: Map<string, number>;
}

/** toYamlText writes `value` (a mapping) as block YAML. */
export function toYamlText(value: Record<string, unknown>, opts: { style?: "quoted" | "plain" } = {}): YamlText {
  const lines: string[] = [];
  const at = new Map<string, number>();
  const keys = new Map<string, number>();
  const str = (s: string) => (opts.style === "plain" && plainSafe(s) ? s : quote(s));
  const scalar = (v: unknown): string => {
    if (typeof v === "string") return str(v);
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (v === null) return "null";
    throw new Error(`toYamlText: cannot write ${typeof v}`);
  };
  const isEmpty = (v: unknown) => v !== null && typeof v === "object" && Object.keys(v).length === 0;
  const emit = (v: unknown, indent: number, path: Path): void => {
    const pad = " ".repeat(indent);
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const p = [...path, i];
        if (item !== null && typeof item === "object" && !isEmpty(item)) {
          // "- " then the first key on the same line
          const before = lines.length;
          emit(item, indent + 2, p);
          at.set(JSON.stringify(p), before + 1);
          lines[before] = `${pad}- ${lines[before]!.slice(indent + 2)}`;
        } else {
          lines.push(`${pad}- ${isEmpty(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`);
          at.set(JSON.stringify(p), lines.length);
        }
      });
      return;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const p = [...path, k];
      const key = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) && !RESERVED.has(k) ? k : quote(k);
      // YAML limits implicit keys to 1024 characters: longer ones are written as "? key" / ": value".
      if (key.length > 1000) {
        lines.push(`${pad}? ${key}`);
        keys.set(JSON.stringify(p), lines.length);
        if (child !== null && typeof child === "object" && !isEmpty(child)) {
          lines.push(`${pad}:`);
          at.set(JSON.stringify(p), lines.length);
          emit(child, indent + 2, p);
        } else {
          lines.push(`${pad}: ${isEmpty(child) ? (Array.isArray(child) ? "[]" : "{}") : scalar(child)}`);
          at.set(JSON.stringify(p), lines.length);
        }
        continue;
      }
      if (child !== null && typeof child === "object" && !isEmpty(child)) {
        lines.push(`${pad}${key}:`);
        at.set(JSON.stringify(p), lines.length);
        emit(child, indent + 2, p);
      } else {
        lines.push(`${pad}${key}: ${isEmpty(child) ? (Array.isArray(child) ? "[]" : "{}") : scalar(child)}`);
        at.set(JSON.stringify(p), lines.length);
      }
    }
  };
  emit(value, 0, []);
  return { text: lines.join("\n") + "\n", lines: at, keys };
}

/** quote writes a YAML double-quoted scalar holding exactly `s`. */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += "\\U" + s.codePointAt(i)!.toString(16).padStart(8, "0");
      i++;
    } else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

// --- internal ---

const RESERVED = new Set(["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]);

/** plainSafe: a plain scalar that YAML 1.2 (core schema) reads back as this same string. */
function plainSafe(s: string): boolean {
  if (!/^[A-Za-z_/@][A-Za-z0-9_./@:+-]*$/.test(s)) return false;
  if (/: |:$|^[@`]/.test(s)) return false;
  if (RESERVED.has(s.toLowerCase())) return false;
  return !/^[-+]?(\.[0-9]|[0-9])/.test(s);
}
