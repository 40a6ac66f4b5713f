// The whole pure pipeline in one call, for the CLI and library users.
import { readFileSync, statSync } from "node:fs";
import type { BackendName, Diagnostic, Plan, RenderedFile } from "./types.js";
import { loadSite, MAX_INPUT_BYTES } from "./input/_load.js";
import { validateSite } from "./input/_validate.js";
import { planSite } from "./plan/_plan.js";
import { renderPlan } from "./backends/_render.js";
import { sortDiagnostics } from "./input/_diagnostics.js";
import { plugins } from "./backends/_registry.js";

/** Result of compiling a site file: diagnostics always; plan and files when there is no error. */
export interface Compiled {
  diagnostics: Diagnostic[];
  plan?: Plan;
  files?: RenderedFile[];
}

/** compileSite validates, plans and renders YAML text that came from `file`. */
export function compileSite(file: string, text: string, backends?: BackendName[]): Compiled {
  const compiled = planText(file, text, backends);
  return compiled.plan ? { ...compiled, files: renderPlan(compiled.plan, { backends }) } : compiled;
}

/**
 * planText is compileSite without rendering: diagnostics, and the plan when there is no error
 * (server limits on the well-known documents checked too), for callers that render lazily.
 */
export function planText(file: string, text: string, backends?: BackendName[]): Compiled {
  try {
    const loaded = loadSite(file, text);
    const { input, diagnostics } = validateSite(loaded, backends);
    if (!input) return { diagnostics: sortDiagnostics(diagnostics) };
    const plan = planSite(input, file);
    const limits = plugins(backends).flatMap((b) => b.checkPlan?.(loaded, plan) ?? []);
    if (limits.length > 0) return { diagnostics: sortDiagnostics([...diagnostics, ...limits]) };
    return { diagnostics: sortDiagnostics(diagnostics), plan };
  } catch (e) {
    // Thousands of nested lists exhaust the parser's stack: that is the input's problem, not ours.
    if (e instanceof RangeError) return { diagnostics: [{ file, line: 1, column: 1, path: "", message: "the file nests too deeply to read (a site file needs a few levels)", severity: "error" }] };
    throw e;
  }
}

/** compileFile reads `file` (refusing folders, missing and huge files with a positioned error). */
export function compileFile(file: string, backends?: BackendName[]): Compiled {
  const text = readSource(file);
  return typeof text === "string" ? compileSite(file, text, backends) : { diagnostics: [text] };
}

/** readSource reads a site file as UTF-8 text, or returns the problem as a diagnostic. */
export function readSource(file: string): string | Diagnostic {
  const problem = (message: string): Diagnostic => ({ file, line: 1, column: 1, path: "", message, severity: "error" });
  try {
    const st = statSync(file);
    if (st.isDirectory()) return problem("is a folder (expected a YAML site file)");
    // A FIFO or device would block or never end: only regular files are read.
    if (!st.isFile()) return problem("is not a regular file (expected a YAML site file)");
    if (st.size > MAX_INPUT_BYTES) return problem(`is larger than ${MAX_INPUT_BYTES / 1048576} MiB (a site file is a few KB per site)`);
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return problem(code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message);
  }
}
