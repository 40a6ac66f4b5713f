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
  // The lines that hold something, as offsets into `text` (no string per line until it is read).
  let capacity = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) capacity++;
  const lines: Lines = { count: 0, indent: new Int32Array(capacity), start: new Int32Array(capacity), end: new Int32Array(capacity) };
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let indent = start;
    while (indent < end && text.charCodeAt(indent) === 32) indent++;
    // Skip blank and comment-only lines; refuse directives and document markers.
    if (indent < end && text.charCodeAt(indent) !== 35) {
      if (indent === start && (text.charCodeAt(start) === 37 || text.startsWith("---", start) || text.startsWith("...", start))) return undefined;
      lines.indent[lines.count] = indent - start;
      lines.start[lines.count] = indent;
      lines.end[lines.count] = end;
      lines.count++;
    }
    start = end + 1;
  }
  if (lines.count === 0 || lines.indent[0] !== 0) return undefined;
  const reader = new Reader(text, lines);
  try {
    const value = reader.block(0);
    if (reader.at < lines.count || value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    return { value: value as Record<string, unknown> };
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}

// --- internal ---

/** Line `i` is text.slice(start[i], end[i]), its content after `indent` spaces. */
interface Lines {
  count: number;
  indent: Int32Array;
  start: Int32Array;
  end: Int32Array;
}

const GIVE_UP = Symbol("give up");
const KEY = /[A-Za-z_][A-Za-z0-9_.-]*:(?=[ \n]|$)/y;
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
  constructor(
    private readonly text: string,
    private readonly lines: Lines,
  ) {}

  /** block reads the mapping or sequence whose first line is the current one, at `indent`. */
  block(indent: number): unknown {
    if (this.lines.indent[this.at] !== indent) giveUp();
    return this.isItem(this.at) ? this.sequence(indent) : this.mapping(indent);
  }

  mapping(indent: number): Record<string, unknown> {
    const { text, lines } = this;
    const out: Record<string, unknown> = {};
    while (this.at < lines.count && lines.indent[this.at] === indent && !this.isItem(this.at)) {
      const start = lines.start[this.at]!;
      const end = lines.end[this.at]!;
      const colon = this.keyEnd(start, end);
      if (colon < 0) giveUp();
      const key = text.slice(start, colon);
      // A key already read is a duplicate (__proto__, which would not be an own key, is special).
      if (key.length > 1000 || (key.length <= 9 && SPECIAL_KEY.test(key)) || Object.hasOwn(out, key)) giveUp();
      this.at++;
      out[key] = this.value(colon + 1 === end ? undefined : text.slice(this.skipSpaces(colon + 1, end), end), indent, true);
    }
    if (this.at < lines.count && lines.indent[this.at]! > indent) giveUp();
    return out;
  }

  sequence(indent: number): unknown[] {
    const { text, lines } = this;
    const out: unknown[] = [];
    while (this.at < lines.count && lines.indent[this.at] === indent && this.isItem(this.at)) {
      const start = lines.start[this.at]!;
      const end = lines.end[this.at]!;
      const rest = this.skipSpaces(start + 1, end);
      if (rest < end && text.charCodeAt(rest) !== 35 && this.keyEnd(rest, end) >= 0) {
        // `- key: value`: a mapping whose keys line up with this first one.
        lines.indent[this.at] = indent + (rest - start);
        lines.start[this.at] = rest;
        out.push(this.mapping(indent + (rest - start)));
      } else {
        this.at++;
        out.push(this.value(text.slice(rest, end), indent, false));
      }
    }
    return out;
  }

  /** value reads what follows `key:` or `-`: a one-line scalar, or a block on the next lines. */
  value(rest: string | undefined, indent: number, inMapping: boolean): unknown {
    const { lines } = this;
    const more = this.at < lines.count;
    if (rest === undefined || rest === "" || rest.charCodeAt(0) === 35) {
      if (more && lines.indent[this.at]! > indent) return this.block(lines.indent[this.at]!);
      // A sequence may sit at its key's indentation.
      if (inMapping && more && lines.indent[this.at] === indent && this.isItem(this.at)) return this.sequence(indent);
      return null;
    }
    const value = scalar(rest);
    if (more && lines.indent[this.at]! > indent) giveUp(); // a continuation line: multi-line scalar or error
    return value;
  }

  /** isItem tells whether line `i` is a sequence item: `-` alone or followed by a space. */
  isItem(i: number): boolean {
    const start = this.lines.start[i]!;
    return this.text.charCodeAt(start) === 45 && (this.lines.end[i] === start + 1 || this.text.charCodeAt(start + 1) === 32);
  }

  /**
   * keyEnd finds the colon of `key:` or `key: value` between start and end — a key made of
   * [A-Za-z_][A-Za-z0-9_.-]*, then ":" ending the line or followed by a space — or returns -1.
   */
  keyEnd(start: number, end: number): number {
    // A sticky pattern: native code from the first line on, where a loop over characters would
    // run in the interpreter for most of one file (this runs once per process).
    KEY.lastIndex = start;
    return KEY.test(this.text) && KEY.lastIndex <= end ? KEY.lastIndex - 1 : -1;
  }

  skipSpaces(i: number, end: number): number {
    while (i < end && this.text.charCodeAt(i) === 32) i++;
    return i;
  }
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
