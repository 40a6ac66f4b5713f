// nginx escaping. Templates receive only values that went through these (or validated names and
// numbers); templates print values as they are (noEscape). Each rule was checked against the real
// parser: test/hostile.test.ts and test/property.test.ts feed hostile values through `nginx -t` and live nginx.
import { BARE } from "../_shared.js";

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
