// The validator for schema/site.schema.json, compiled by scripts/build.mjs to standalone code
// (ajv with allErrors and verbose; `x-expected` is our own annotation: the human wording of what
// a field accepts, read from each error's parentSchema). Loading it costs no ajv compile.
import type { ValidateFunction } from "ajv";
import { validate } from "../_generated/schema-validator.js";

/** compileSchema returns the validator for the site schema (compiled at build time). */
export function compileSchema(): ValidateFunction {
  return validate as ValidateFunction;
}
