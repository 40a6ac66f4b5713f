// A reader for the plain block-style YAML that site files are written in: mappings, sequences,
// one-line scalars, comments. It exists for speed — the `yaml` package takes ≈25 ms to load and
// about 1 s for 10,000 sites, this about 1/20 of that — and is deliberately narrow: anything it is
// not sure `yaml` would read to the same value without an error or a warning (flow collections
// other than {} and [], anchors, tags, block scalars, multi-line scalars, non-ASCII text, tabs,
// numbers other than plain integers, duplicate keys, ...) makes it give up, and `yaml` reads the
// file instead. test/fast-paths.test.ts holds it to `yaml`'s answers.

/** readSimpleYaml returns the value of `text`, or undefined when `yaml` must read it. */
export function readSimpleYaml(text: string): { value: Record<string, unknown> } | undefined {
  // Printable ASCII and newlines only: no tabs, CR, BOM, control or non-ASCII characters.
  if (/[^\n\x20-\x7e]/.test(text)) return undefined;
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let indent = start;
    while (indent < end && text.charCodeAt(indent) === 32) indent++;
    // Skip blank and comment-only lines; refuse directives and document markers.
    if (indent < end && text.charCodeAt(indent) !== 35) {
      const content = text.slice(indent, end);
      if (indent === start && (content.startsWith("%") || content.startsWith("---") || content.startsWith("..."))) return undefined;
      lines.push({ indent: indent - start, content });
    }
    start = end + 1;
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  const reader = new Reader(lines);
  try {
    const value = reader.block(0);
    if (reader.at < lines.length || value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    return { value: value as Record<string, unknown> };
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}

// --- internal ---

interface Line {
  indent: number;
  content: string;
}

const GIVE_UP = Symbol("give up");
// `key: value`, `key:` — a plain key, then ": " or the end of the line.
const ENTRY = /^([A-Za-z_][A-Za-z0-9_.-]*):(?: +(.*))?$/;
const SPECIAL_KEY = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|__proto__)$/;
const WORD = /^[A-Za-z][A-Za-z0-9._/:@+-]*$/;
const KEYWORD = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const SMALL_INT = /^(?:0|[1-9][0-9]{0,14})$/;
// The YAML 1.2 core schema's other numbers (yaml/dist/schema/core): left to `yaml`.
const OTHER_NUMBER = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

function giveUp(): never {
  throw GIVE_UP;
}

class Reader {
  at = 0;
  constructor(private readonly lines: Line[]) {}

  /** block reads the mapping or sequence whose first line is the current one, at `indent`. */
  block(indent: number): unknown {
    const line = this.lines[this.at]!;
    if (line.indent !== indent) giveUp();
    return isItem(line.content) ? this.sequence(indent) : this.mapping(indent);
  }

  mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.lines[this.at]; line && line.indent === indent && !isItem(line.content); line = this.lines[this.at]) {
      const m = ENTRY.exec(line.content) ?? giveUp();
      const key = m[1]!;
      // A key already read is a duplicate (__proto__, which would not be an own key, is special).
      if (key.length > 1000 || (key.length <= 9 && SPECIAL_KEY.test(key)) || Object.hasOwn(out, key)) giveUp();
      this.at++;
      out[key] = this.value(m[2], indent, true);
    }
    const next = this.lines[this.at];
    if (next && next.indent > indent) giveUp();
    return out;
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.lines[this.at]; line && line.indent === indent && isItem(line.content); line = this.lines[this.at]) {
      let offset = 1;
      while (line.content.charCodeAt(offset) === 32) offset++;
      const rest = line.content.slice(offset);
      if (rest !== "" && !rest.startsWith("#") && ENTRY.test(rest)) {
        // `- key: value`: a mapping whose keys line up with this first one.
        this.lines[this.at] = { indent: indent + offset, content: rest };
        out.push(this.mapping(indent + offset));
      } else {
        this.at++;
        out.push(this.value(rest, indent, false));
      }
    }
    return out;
  }

  /** value reads what follows `key:` or `-`: a one-line scalar, or a block on the next lines. */
  value(rest: string | undefined, indent: number, inMapping: boolean): unknown {
    if (rest === undefined || rest === "" || rest.startsWith("#")) {
      const next = this.lines[this.at];
      if (next && next.indent > indent) return this.block(next.indent);
      // A sequence may sit at its key's indentation.
      if (inMapping && next && next.indent === indent && isItem(next.content)) return this.sequence(indent);
      return null;
    }
    const value = scalar(rest);
    const next = this.lines[this.at];
    if (next && next.indent > indent) giveUp(); // a continuation line: multi-line scalar or error
    return value;
  }
}

function isItem(content: string): boolean {
  return content === "-" || content.startsWith("- ");
}

/** scalar reads a one-line scalar with an optional trailing comment. */
function scalar(text: string): unknown {
  const c = text[0]!;
  if (c === '"' || c === "'") {
    const end = c === '"' ? doubleQuoteEnd(text) : singleQuoteEnd(text);
    if (!/^(?: +(?:#.*)?)?$/.test(text.slice(end + 1))) giveUp();
    const inner = text.slice(1, end);
    if (c === "'") return inner.replace(/''/g, "'");
    try {
      return JSON.parse(`"${inner}"`) as string;
    } catch {
      return giveUp();
    }
  }
  // Most values: a word starting with a letter, without spaces or YAML indicators. Of those only
  // null, true and false (at most 5 letters) and a final ":" are not plain strings.
  if (WORD.test(text) && (text.length > 5 || !KEYWORD.test(text)) && !text.endsWith(":")) return text;
  const hash = text.indexOf(" #");
  const plain = (hash >= 0 ? text.slice(0, hash) : text).trimEnd();
  if (plain === "{}") return {};
  if (plain === "[]") return [];
  // Indicators that start something else than a plain scalar; ": " or a final ":" is a mapping.
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(plain) || /[[\]{}]/.test(plain) || plain.includes(": ") || plain.endsWith(":")) giveUp();
  if (/^(?:~|[Nn]ull|NULL)$/.test(plain)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(plain)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(plain)) return false;
  if (SMALL_INT.test(plain)) return Number(plain);
  if (OTHER_NUMBER.test(plain)) giveUp();
  return plain;
}

/** doubleQuoteEnd finds the closing quote; only escapes that JSON reads the same way pass. */
function doubleQuoteEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') return i;
    if (ch === "\\") {
      if (!'"\\/bfnrtu'.includes(text[i + 1] ?? "x")) giveUp();
      i++;
    }
  }
  return giveUp();
}

function singleQuoteEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") i++;
      else return i;
    }
  }
  return giveUp();
}
