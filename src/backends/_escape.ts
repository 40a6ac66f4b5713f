// One escaping function per backend syntax. Templates receive only values that went through
// these; templates print values as they are (Handlebars' noEscape: HTML escaping is wrong for
// config files).
// A value made only of BARE characters needs no quotes in any of the syntaxes and stays readable.
// Each rule below was checked against the real parser (test/escape.test.ts runs them).

const BARE = /^[A-Za-z0-9._/:@+=,*-]+$/;

/**
 * nginxString quotes a value as an nginx single-quoted string. nginx unescapes \' \" \\ (and
 * \t \r \n) inside quotes and keeps other backslashes; `$` starts a variable and has no escape,
 * so callers must never pass a `$` (the canonical JSON writes it as \u0024; names cannot hold it).
 */
export function nginxString(value: string): string {
  if (BARE.test(value)) return value;
  if (value.includes("$")) throw new Error(`internal: nginx cannot quote "$" in ${JSON.stringify(value)}`);
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * apacheString quotes a value for an Apache directive argument. The config reader turns \\ into
 * \ and \" into "; a value that is also an ap_expr string (ErrorDocument) gets `expr: true`, which
 * additionally escapes \ $ % for the expression parser and writes newlines as \n.
 */
export function apacheString(value: string, opts: { expr?: boolean } = {}): string {
  if (opts.expr) return `"${value.replace(/[\\$%\n"]/g, apacheExprEscape)}"`;
  if (BARE.test(value)) return value;
  if (/[\n\r]/.test(value)) throw new Error(`internal: Apache arguments cannot hold a newline: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

// The expression parser's escapes (\\ \$ \% and \n for a newline), then the config reader's
// (\\ and \"), in one pass: document bodies are escaped once per site.
const APACHE_EXPR_ESCAPES: Record<string, string> = { "\\": "\\\\\\\\", $: "\\\\$", "%": "\\\\%", "\n": "\\\\n", '"': '\\"' };
const apacheExprEscape = (c: string) => APACHE_EXPR_ESCAPES[c]!;

/**
 * caddyToken quotes a value as one Caddyfile token. In a double-quoted token the lexer turns \"
 * into " and keeps every other backslash with the character after it, so a value is safe there
 * when each run of backslashes before a quote (or at the end) is even; otherwise a backtick
 * token (taken literally, ended by the next backtick) is used. `caddy fmt` (2.6) leaves double
 * quotes alone but re-indents braces inside backticks, so double quotes come first. Values
 * never hold `{` or `}` inside strings (Caddy reads placeholders there, and {$VAR} anywhere):
 * the schema refuses them in paths and the canonical JSON writes them as \u escapes.
 */
export function caddyToken(value: string): string {
  if (BARE.test(value)) return value;
  if (caddyDoubleQuotable(value)) return `"${value.replace(/"/g, '\\"')}"`;
  if (!value.includes("`") && !/[{}]/.test(value)) return "`" + value + "`";
  throw new Error(`internal: Caddy cannot quote ${JSON.stringify(value)}`);
}

/** caddyQuotable tells whether caddyToken can write `value` (validation refuses the rest). */
export function caddyQuotable(value: string): boolean {
  return BARE.test(value) || caddyDoubleQuotable(value) || (!value.includes("`") && !/[{}]/.test(value));
}

function caddyDoubleQuotable(value: string): boolean {
  return !/(^|[^\\])(\\\\)*\\("|$)/.test(value);
}

/**
 * yamlString writes a YAML double-quoted scalar; JSON string syntax is valid YAML 1.2. Anything
 * outside printable ASCII is written as \uXXXX: go-yaml (Traefik) reads U+0085, U+2028 and
 * U+2029 as line breaks, and invisible characters should not hide in committed output.
 */
export function yamlString(value: string): string {
  const json = JSON.stringify(value);
  // Most values are printable ASCII: skip the replace (a global Unicode regex walk and a copy).
  if (!NOT_PRINTABLE.test(json)) return json;
  return json.replace(/[^\x20-\x7e]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  });
}

const NOT_PRINTABLE = /[^\x20-\x7e]/;

/** regexLiteral escapes a string for use inside a PCRE/RE2/Go regular expression. */
export function regexLiteral(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
