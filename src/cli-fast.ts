#!/usr/bin/env node
// The entry of dist/cli.js. The two invocations run on every commit (CI, pre-commit hooks) —
// `render SITE --out DIR` and `validate SITE...`, with no other option — are dispatched here
// without loading yargs, which costs more start-up time than everything mxproxy itself does
// (BENCH.md). Anything else (other commands or options, --help, mistakes) goes to cli.ts,
// loaded on demand; so do these two with MXPROXY_FULL_CLI=1 (the tests compare both paths).
// Output, messages and exit codes are those of cli.ts: keep the two in step.
import * as run from "./_commands.js";
import { OutputError } from "./_write.js";

const fast = process.env.MXPROXY_FULL_CLI ? undefined : simple(process.argv.slice(2));
if (fast) await main(fast);
else await import("./cli.js");

// --- internal ---

/** simple returns the command for an argument list yargs would read only one way, else undefined. */
function simple(args: string[]): (() => Promise<run.Output> | run.Output) | undefined {
  const [command, ...rest] = args;
  if (!rest.every(plain)) return undefined;
  if (command === "validate" && rest.length > 0 && rest.every((a) => !a.startsWith("-"))) {
    return () => run.validate({ sites: rest, format: "text" });
  }
  if (command !== "render") return undefined;
  let site: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--out" || a === "-o") {
      if (out !== undefined || i + 1 >= rest.length || rest[i + 1]!.startsWith("-")) return undefined;
      out = rest[++i];
    } else if (a.startsWith("--out=")) {
      if (out !== undefined || a.length === "--out=".length) return undefined;
      out = a.slice("--out=".length);
    } else if (!a.startsWith("-") && site === undefined) site = a;
    else return undefined;
  }
  if (site === undefined || out === undefined) return undefined;
  return () => run.render({ site, out: out!, check: false, stdout: false });
}

/** plain is an argument yargs takes verbatim: not "-" (stdin), "--", empty, or number-like. */
function plain(a: string): boolean {
  return a !== "" && a !== "-" && a !== "--" && !/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i.test(a) && !/^0x[0-9a-f]+$/i.test(a);
}

/** main runs one command the way cli.ts's main() does: same streams, messages and exit codes. */
async function main(command: () => Promise<run.Output> | run.Output): Promise<void> {
  try {
    const out = await command();
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
