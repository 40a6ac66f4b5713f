// mxproxy's library API: load → validate → plan → render → write. Only re-exports live here.
export type * from "./types.js";
export { loadSite } from "./input/_load.js";
export { validateSite, type Validated } from "./input/_validate.js";
export { planSite } from "./plan/_plan.js";
export { renderPlan, renderFiles, renderBackend, BACKENDS } from "./backends/_render.js";
export { writeOutput, OutputError, MANIFEST, type WriteResult, type WriteOptions } from "./output/_write.js";
export { checkDrift, type Drift } from "./output/_drift.js";
export { canonicalJson } from "./plan/_json.js";
export { formatDiagnostic } from "./input/_diagnostics.js";
export { compileSite, compileFile, type Compiled } from "./pipeline.js";
export { compare, type CompareRow } from "./compare/_compare.js";
export { default as siteSchema } from "../schema/site.schema.json" with { type: "json" };
