// How the CLI prints a command's result or failure; shared by cli.ts and the fast path
// (cli-fast-run.ts), so both give the same streams, messages and exit codes.
import { UsageError, type Output } from "./_commands.js";
import { OutputError } from "../output/_write.js";

/** emit prints a command's output: data on stdout, messages on stderr. */
export function emit(out: Output): void {
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  process.exitCode = out.code;
}

/** fail reports an exception: output problems exit 1, usage 2, anything else is a bug (3). */
export function fail(e: unknown): void {
  if (e instanceof OutputError) {
    process.stderr.write(`mxproxy: ${e.message}\n`);
    process.exitCode = 1;
  } else if (e instanceof UsageError) {
    process.stderr.write(`mxproxy: ${e.message}\nRun "mxproxy --help" for usage.\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`mxproxy: internal error: ${(e as Error).message}\nThis is a bug in mxproxy; please report it with the input that caused it.\n`);
    if (process.env.MXPROXY_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 3;
  }
}
