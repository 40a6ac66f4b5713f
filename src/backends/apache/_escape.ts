// Apache httpd escaping. Templates receive only values that went through these (or validated names and
// numbers); templates print values as they are (noEscape). Each rule was checked against the real
// parser: test/hostile.test.ts and test/property.test.ts feed hostile values through `apache2 -t` and live Apache.
import { BARE } from "../_shared.js";

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
