// Stage 2a: JSON Schema validation (schema/site.schema.json is the single source of the rules)
// and the translation of ajv's errors into positioned, human messages.
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Diagnostic, LoadedSite } from "../types.js";
import { diagnostic, didYouMean, joinPath, pointerToPath, show } from "./_diagnostics.js";
import { compileSchema } from "./_schema-validator.js";

let validator: ValidateFunction | undefined;

/** schemaDiagnostics validates a loaded value against the site schema. */
export function schemaDiagnostics(loaded: LoadedSite): Diagnostic[] {
  validator ??= compileSchema();
  if (validator(loaded.value)) return [];
  return translate(loaded, validator.errors ?? []);
}

// --- internal ---

type Err = ErrorObject & { parentSchema?: Record<string, unknown> };

/** translate keeps one message per offending node, preferring the most specific error. */
function translate(loaded: LoadedSite, errors: Err[]): Diagnostic[] {
  const byPath = new Map<string, Diagnostic>();
  const rank = new Map<string, number>();
  for (const e of errors) {
    const out = message(loaded, e);
    if (!out) continue;
    const r = e.keyword === "oneOf" || e.keyword === "anyOf" || e.keyword === "not" ? 1 : e.keyword === "additionalProperties" || e.keyword === "required" ? 3 : 2;
    const key = `${out.path}\u0000${e.keyword === "additionalProperties" || e.keyword === "required" ? out.message : ""}`;
    // A failed branch of oneOf/anyOf reports its own errors too; those would be noise.
    if (e.schemaPath.includes("/oneOf/") || e.schemaPath.includes("/anyOf/")) continue;
    if ((rank.get(key) ?? 0) >= r && byPath.has(key)) continue;
    byPath.set(key, out);
    rank.set(key, r);
  }
  // A missing key next to an unknown near-miss ("hots" for "host") is one mistake: keep the hint.
  const out = [...byPath.values()];
  return out.filter((d) => {
    const m = /^missing required key "([^"]+)"/.exec(d.message);
    return !m || !out.some((o) => o.path.startsWith(d.path) && o.message.includes(`did you mean "${m[1]}"`));
  });
}

function message(loaded: LoadedSite, e: Err): Diagnostic | undefined {
  const path = pointerToPath(e.instancePath);
  const expected = typeof e.parentSchema?.["x-expected"] === "string" ? (e.parentSchema["x-expected"] as string) : undefined;
  const value = valueAt(loaded.value, e.instancePath);
  switch (e.keyword) {
    case "required": {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const props = e.parentSchema?.properties as Record<string, { examples?: unknown[] }> | undefined;
      const example = exampleOf(props?.[missing]);
      const hint = example !== undefined ? ` (for example ${missing}: ${example})` : "";
      // Point at the parent's key (`homeserver:`), or for a list item at its first line.
      return diagnostic(loaded, path, `missing required key "${missing}"${hint}`, "key");
    }
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((e.parentSchema?.properties as object) ?? {}).filter((k) => !(path === "defaults" && k === "server_name"));
      const guess = didYouMean(extra, known);
      const mean = guess ? `did you mean "${guess}"? ` : "";
      return diagnostic(loaded, joinPath(path, extra), `unknown key ${show(extra)} (${mean}accepted: ${known.join(", ")})`, "key");
    }
    case "type": {
      const want = (e.params as { type: string | string[] }).type;
      return diagnostic(loaded, path, `${show(value)} is ${typeName(value)} (expected ${expected ?? [want].flat().join(" or ")})`);
    }
    case "propertyNames": {
      const name = (e.params as { propertyName: string }).propertyName;
      const inner = (e.parentSchema?.propertyNames as { "x-expected"?: string } | undefined)?.["x-expected"];
      return diagnostic(loaded, joinPath(path, name), `key ${show(name)} is not accepted (expected ${inner ?? "a valid key"})`, "key");
    }
    case "pattern":
      if ((e as { propertyName?: string }).propertyName !== undefined) return undefined; // reported by propertyNames
      return diagnostic(loaded, path, `${show(value)} is not valid (expected ${expected ?? "a value matching " + (e.params as { pattern: string }).pattern})`);
    case "minItems":
      return diagnostic(loaded, path, `the list is empty (expected ${expected ?? "at least one entry"})`);
    default:
      return diagnostic(loaded, path, `${show(value)} is not valid (expected ${expected ?? e.message ?? "something else"})`);
  }
}

function exampleOf(schema: { examples?: unknown[]; allOf?: { examples?: unknown[] }[] } | undefined): string | undefined {
  const ex = schema?.examples?.[0];
  if (ex === undefined || (typeof ex === "object" && ex !== null)) return undefined;
  return String(ex);
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const part of pointer.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a number";
  if (typeof v === "boolean") return "a boolean";
  return `a ${typeof v}`;
}
