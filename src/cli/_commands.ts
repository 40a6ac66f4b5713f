// What each CLI command does, as functions that return their output instead of printing it.
import { existsSync, readSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BackendName, Diagnostic } from "../types.js";
import { compileSite, planText, readSource } from "../pipeline.js";
import { backendFiles, documentFiles, renderPlan } from "../backends/_render.js";
import { MAX_INPUT_BYTES } from "../input/_load.js";
import { formatDiagnostic } from "../input/_diagnostics.js";
import { writeOutput } from "../output/_write.js";
import { renderCompare } from "../compare/_format.js";
import { starterSite } from "./_init.js";
import schemaJson from "../../schema/site.schema.json" with { type: "json" };

/** A command's result: text for stdout (data), text for stderr (messages), the exit code. */
export interface Output {
  stdout?: string;
  stderr?: string;
  code: number;
}

/** Renders of this many sites or more write on worker threads (starting them costs ≈30 ms). */
const THREAD_SITES = 200;

/** How the CLI names standard input (given as "-"). */
export const STDIN = "<stdin>";

/** A usage mistake the argument parser cannot see (exit 2). */
export class UsageError extends Error {}

export async function render(o: { site: string; out: string; backends?: string[]; check: boolean; stdout: boolean }): Promise<Output> {
  const backends = o.backends as BackendName[] | undefined;
  if (o.stdout && o.check) throw new UsageError("--stdout and --check cannot be combined");
  if (o.stdout && backends?.length !== 1) throw new UsageError("--stdout prints one backend: add exactly one --backend (nginx, apache, caddy or traefik)");
  const compiled = compile(o.site, backends);
  const plan = compiled.plan;
  if (!plan) return failed(compiled.diagnostics);
  const warnings = messages(compiled.diagnostics);
  if (o.stdout) {
    // Traefik's static file is a different document; --stdout prints the dynamic configuration.
    const files = renderPlan(plan, { backends }).filter((f) => f.backend === backends![0] && !f.path.startsWith("traefik/static/"));
    return { stdout: files.map((f) => f.contents).join("\n"), stderr: warnings, code: 0 };
  }
  const out = resolve(o.out);
  if (o.check) {
    // The diff library is loaded only for --check.
    const { checkDrift } = await import("../output/_drift.js");
    const files = renderPlan(plan, { backends });
    const drift = checkDrift(out, files);
    if (drift.length === 0) return { stderr: `${warnings}${o.out}: up to date (${files.length} files)\n`, code: 0 };
    const list = drift.map((d) => `${d.path} (${d.kind})`).join(", ");
    return { stdout: drift.map((d) => d.diff).join(""), stderr: `${warnings}${o.out}: ${drift.length} file(s) differ from what ${o.site} renders: ${list}\nRun "mxproxy render ${o.site} --out ${o.out}" to update them.\n`, code: 1 };
  }
  // Files are rendered as they are written; from a few hundred sites on, worker threads write
  // while this one renders (BENCH.md: the file system calls are most of a big render). The
  // documents come first: cheap to render, they are most of the files and all of the folders.
  const files = (function* () {
    yield* documentFiles(plan);
    yield* backendFiles(plan, { backends });
  })();
  const result = writeOutput(out, files, { thread: plan.sites.length >= THREAD_SITES });
  const summary = `${o.out}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ""}\n`;
  return { stderr: warnings + summary, code: 0 };
}

export function validate(o: { sites: string[]; format: "text" | "json"; backends?: string[] }): Output {
  // Validation is planning without rendering: rendering cannot fail on a valid plan.
  const results = o.sites.map((site) => ({ site, compiled: compile(site, o.backends as BackendName[] | undefined) }));
  const diagnostics = results.flatMap((r) => r.compiled.diagnostics);
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (o.format === "json") {
    return { stdout: JSON.stringify(diagnostics, null, 2) + "\n", code: errors > 0 ? 1 : 0 };
  }
  if (errors > 0) return failed(diagnostics);
  const lines = results.map((r) => {
    const sites = r.compiled.plan!.sites.length;
    return `${r.site}: valid (${sites} site${sites === 1 ? "" : "s"})\n`;
  });
  return { stderr: messages(diagnostics) + lines.join(""), code: 0 };
}

export function schema(): Output {
  return { stdout: JSON.stringify(schemaJson, null, 2) + "\n", code: 0 };
}

export function compareCmd(o: { site: string; format: "table" | "json" | "markdown" }): Output {
  const compiled = compile(o.site);
  if (!compiled.plan) return failed(compiled.diagnostics);
  return { stdout: renderCompare(compiled.plan, o.format, color(process.stdout)), code: 0 };
}

export function init(o: { file: string; serverName: string; host?: string; upstream: string; force: boolean }): Output {
  const text = starterSite({ serverName: o.serverName, host: o.host ?? `matrix.${o.serverName}`, upstream: o.upstream });
  // The starter must itself be valid: options go through the same validation as any file.
  const compiled = compileSite(o.file, text);
  if (!compiled.plan) return failed(compiled.diagnostics, "the options given to init do not make a valid site file:\n");
  if (existsSync(o.file) && !o.force) return { stderr: `mxproxy: ${o.file} already exists (use --force to overwrite it)\n`, code: 1 };
  writeFileSync(o.file, text);
  return { stderr: `${o.file}: written; edit it, then run: mxproxy render ${o.file} --out out/\n`, code: 0 };
}

// --- internal ---

/** compile reads a site file (or standard input) and plans it, without rendering. */
function compile(site: string, backends?: BackendName[]) {
  const text = site === STDIN ? readStdin(site) : readSource(site);
  if (typeof text !== "string") return { diagnostics: [text] as Diagnostic[] };
  return planText(site, text, backends);
}

/** readStdin reads standard input up to the size limit (an endless stream is refused, not hung on). */
function readStdin(file: string): string | Diagnostic {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((e as NodeJS.ErrnoException).code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_INPUT_BYTES) return { file, line: 1, column: 1, path: "", message: `standard input is larger than ${MAX_INPUT_BYTES / 1048576} MiB (a site file is a few KB per site)`, severity: "error" };
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function failed(diagnostics: Diagnostic[], prefix = ""): Output {
  const n = diagnostics.filter((d) => d.severity === "error").length;
  return { stderr: `${prefix}${messages(diagnostics)}${n} problem${n === 1 ? "" : "s"} found; nothing was written.\n`, code: 1 };
}

function messages(diagnostics: Diagnostic[]): string {
  const paint = color(process.stderr);
  return diagnostics.map((d) => paint(formatDiagnostic(d), d.severity) + "\n").join("");
}

/** color returns a painter that colours only on a TTY and only without NO_COLOR. */
function color(stream: NodeJS.WriteStream): (text: string, kind?: string) => string {
  const on = stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  return (text, kind = "error") => (on ? `\u001b[${kind === "error" ? 31 : 33}m${text}\u001b[39m` : text);
}
