// Plumbing shared by the nginx/Apache/Caddy launchers: locating binaries, running a syntax
// check, making test folders readable by the servers' workers.
import { spawn } from "node:child_process";
import { chmodSync, readdirSync, statSync } from "node:fs";
import { findBinary } from "../../scripts/find-binary.mjs";
import { dirname, join, resolve } from "node:path";

export const SETUP_HINT = "run `node scripts/setup-servers.mjs` (as root it installs nginx, apache2, caddy, openssl)";

export { findBinary };

/** Like findBinary, but a missing server is a failure that says how to fix it (never a skip). */
export function requireBinary(bin: string): string {
  const found = findBinary(bin);
  if (!found) throw new Error(`${bin} is not installed (looked on PATH and in /usr/sbin): ${SETUP_HINT}`);
  return found;
}

/**
 * chmod a test tree so the servers' workers (nobody) can read it: folders 755, files 644 (or 755
 * when executable). A mktemp folder is 0700: nginx body temp files over 16 KB then fail and Apache
 * answers 403 for static files.
 */
export function openUp(path: string): void {
  path = resolve(path);
  // Ancestors are not ours to chmod (could be a home folder); say which one blocks nobody.
  for (let d = dirname(path); d !== dirname(d); d = dirname(d)) {
    if (!(statSync(d).mode & 0o001)) {
      throw new Error(
        `${d} is not traversable by others (mode ${(statSync(d).mode & 0o777).toString(8)}); ` +
          `the servers' workers run as nobody and need o+x on every folder above ${path}`,
      );
    }
  }
  openTree(path);
}

function openTree(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const e of readdirSync(path)) openTree(join(path, e));
  } else if (st.isFile()) {
    chmodSync(path, st.mode & 0o100 ? 0o755 : 0o644);
  }
}

export interface RunResult {
  code: number | null;
  /** stdout and stderr interleaved as they arrived */
  output: string;
  stdout: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr.on("data", (d: Buffer) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, stdout }));
    child.stdin.end(opts.input);
  });
}

/** Run a syntax check; throw with the command line and its full output unless it exits 0. */
export async function check(name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, { env });
  if (r.code !== 0) {
    throw new Error(`${name} syntax check failed (exit ${r.code}): ${cmd} ${args.join(" ")}\n${r.output}`);
  }
  return r.output;
}

// Clean-ups that must run however the test process ends: normal exit, or SIGINT/SIGTERM/SIGHUP
// (Ctrl-C, the test runner's timeout). 'exit' alone does not fire when a signal kills us.
const cleanups: (() => void)[] = [];
let ran = false;
function runCleanups(): void {
  if (ran) return;
  ran = true;
  // newest first, like nested finally blocks: servers die before their folders and ports go
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}
export function atTermination(fn: () => void): void {
  if (cleanups.length === 0) {
    process.on("exit", runCleanups);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(sig, () => {
        runCleanups();
        process.kill(process.pid, sig); // our listener is gone (once): default action now
      });
    }
  }
  cleanups.push(fn);
}
