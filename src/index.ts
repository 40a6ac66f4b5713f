// mxproxy's library API: load → validate → plan → render → write. Only re-exports live here.
export type * from "./types.js";
export { loadSite } from "./_load.js";
export { validateSite, type Validated } from "./_validate.js";
export { planSite } from "./_plan.js";
export { renderPlan, renderFiles, renderBackend, BACKENDS } from "./_render.js";
export { writeOutput, OutputError, MANIFEST, type WriteResult, type WriteOptions } from "./_write.js";
export { checkDrift, type Drift } from "./_drift.js";
export { canonicalJson } from "./_json.js";
export { formatDiagnostic } from "./_diagnostics.js";
export { compileSite, compileFile, type Compiled } from "./_compile.js";
export { compare, type CompareRow } from "./_compare.js";
export { default as siteSchema } from "../schema/site.schema.json" with { type: "json" };
