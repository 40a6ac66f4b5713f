// Compiles schema/site.schema.json with ajv. `x-expected` is our own annotation: the human
// wording of what a field accepts, used in error messages.
import AjvModule, { type ValidateFunction } from "ajv";
import schema from "../schema/site.schema.json" with { type: "json" };

// ajv is CommonJS; under NodeNext its class is the default export's `default`.
const Ajv = AjvModule.default;

/** compileSchema returns the ajv validator for the site schema. */
export function compileSchema(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, strictRequired: false });
  ajv.addKeyword("x-expected");
  return ajv.compile(schema);
}
