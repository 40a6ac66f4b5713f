// Traefik (YAML) escaping. Templates receive only values that went through these (or validated names and
// numbers); templates print values as they are (noEscape). Each rule was checked against the real
// parser: test/hostile.test.ts and test/property.test.ts feed hostile values through the vendored Traefik schema and a YAML parser.
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
