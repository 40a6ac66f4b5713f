// Caddyfile escaping. Templates receive only values that went through these (or validated names and
// numbers); templates print values as they are (noEscape). Each rule was checked against the real
// parser: test/hostile.test.ts and test/property.test.ts feed hostile values through `caddy validate` and live Caddy.
import { BARE } from "../_shared.js";

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
