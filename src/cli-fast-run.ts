// The fast path's work (see cli-fast.ts): run one command the way cli.ts's main() does — same
// streams, messages and exit codes. scripts/build.mjs bundles this file alone as CommonJS, with
// a V8 code cache made at build time, so starting it costs almost no compiling.
import * as run from "./_commands.js";
import { OutputError } from "./_write.js";

/** A command the fast path runs, as cli-fast.ts read it from the arguments. */
export type FastCommand = { name: "render"; site: string; out: string } | { name: "validate"; sites: string[] };

/** runFast runs `command`, prints its output and sets the exit code. */
export async function runFast(command: FastCommand): Promise<void> {
  try {
    const out = command.name === "render" ? await run.render({ site: command.site, out: command.out, check: false, stdout: false }) : run.validate({ sites: command.sites, format: "text" });
    if (out.stdout) process.stdout.write(out.stdout);
    if (out.stderr) process.stderr.write(out.stderr);
    process.exitCode = out.code;
  } catch (e) {
    if (e instanceof OutputError) {
      process.stderr.write(`mxproxy: ${e.message}\n`);
      process.exitCode = 1;
    } else if (e instanceof run.UsageError) {
      process.stderr.write(`mxproxy: ${e.message}\nRun "mxproxy --help" for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`mxproxy: internal error: ${(e as Error).message}\nThis is a bug in mxproxy; please report it with the input that caused it.\n`);
      if (process.env.MXPROXY_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 3;
    }
  }
}
