// The fast path's work (see cli-fast.ts): run one command the way cli.ts's main() does — same
// streams, messages and exit codes. scripts/build.mjs bundles this file alone as CommonJS, with
// a V8 code cache made at build time, so starting it costs almost no compiling.
import * as run from "./_commands.js";
import { emit, fail } from "./_output.js";

/** A command the fast path runs, as cli-fast.ts read it from the arguments. */
export type FastCommand = { name: "render"; site: string; out: string } | { name: "validate"; sites: string[] };

/** runFast runs `command`, prints its output and sets the exit code. */
export async function runFast(command: FastCommand): Promise<void> {
  try {
    emit(command.name === "render" ? await run.render({ site: command.site, out: command.out, check: false, stdout: false }) : run.validate({ sites: command.sites, format: "text" }));
  } catch (e) {
    fail(e);
  }
}
