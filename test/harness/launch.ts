// Starting a server in the foreground by PID, waiting for its ports, stopping it, and making sure
// nothing outlives the test process.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { atTermination } from "./proc.ts";

export interface Running {
  name: string;
  pid: number;
  stop(): Promise<void>;
  /** error logs + the server's stdout/stderr, for printing when a probe fails */
  logs(): string;
}

// Servers still running in this process; a forgotten stop() or a killed test run must not leave
// nginx/Apache/Caddy behind holding ports. Each server is its own process group (detached), so
// signalling -pid also reaches nginx/Apache workers.
const live = new Map<number, ChildProcess>();
function killAll(sig: NodeJS.Signals): void {
  for (const pid of live.keys()) {
    try {
      process.kill(-pid, sig);
    } catch {
      /* gone */
    }
  }
}
let hooked = false;
function hookCleanup(): void {
  if (!hooked) atTermination(() => killAll("SIGTERM"));
  hooked = true;
}

/**
 * TCP ports process `pid` itself listens on (for nginx/Apache the master holds them): its socket inodes from
 * /proc/PID/fd matched against LISTEN rows of /proc/net/tcp{,6}. Linux only; [] elsewhere.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      // f[1] local "ADDR:PORT" (hex), f[3] state (0A = LISTEN), f[9] inode
      if (f[3] === "0A" && f[9] && inodes.has(f[9])) ports.add(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.setTimeout(500);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
  });
}

export interface LaunchOptions {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** every port must accept TCP on 127.0.0.1 before launch resolves */
  ports: number[];
  /** files read by logs() (missing files are skipped) */
  logFiles: string[];
  stopSignal: NodeJS.Signals;
  /** also wait until the server's output matches this (e.g. Caddy's "serving initial configuration") */
  readyPattern?: RegExp;
  /** fail when the server listens on TCP ports beyond `ports` and `except` (Caddy's automatic :80) */
  exactPorts?: { except: number[] };
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export async function launch(o: LaunchOptions): Promise<Running> {
  hookCleanup();
  const child = spawn(o.cmd, o.args, {
    env: o.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 1 << 20) out = out.slice(-(1 << 19)); // long runs: keep the recent half
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  // Do not keep the test process alive just for the server; the exit hook stops it.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitP = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => ((exited = { code, signal }), live.delete(child.pid!), resolve()));
    child.once(
      "error",
      (e) => ((out += `\nspawn error: ${e.message}\n`), (exited ??= { code: null, signal: null }), resolve()),
    );
  });
  if (child.pid) live.set(child.pid, child);

  const logs = () => {
    const parts = o.logFiles.filter((f) => existsSync(f)).map((f) => `--- ${f}\n${readFileSync(f, "utf8")}`);
    return [...parts, `--- ${o.name} stdout/stderr\n${out}`].join("\n");
  };
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = async () => {
    if (exited) return;
    // Signal the master only: nginx QUIT / Apache TERM / Caddy TERM shut down their own workers.
    try {
      process.kill(child.pid!, o.stopSignal);
    } catch {
      /* gone */
    }
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), o.stopTimeoutMs ?? 5000).unref());
    if ((await Promise.race([exitP, timeout])) === "timeout") {
      signalGroup("SIGKILL");
      await exitP;
    }
    signalGroup("SIGKILL"); // stragglers (workers mid-request) of an exited master
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 5000);
  const pending = new Set(o.ports);
  while (pending.size > 0 || (o.readyPattern && !o.readyPattern.test(out))) {
    if (exited) {
      throw new Error(`${o.name} exited during start-up (code ${exited.code}, signal ${exited.signal})\n${logs()}`);
    }
    for (const p of [...pending]) if (await canConnect(p)) pending.delete(p);
    if (pending.size === 0 && (!o.readyPattern || o.readyPattern.test(out))) break;
    if (Date.now() > deadline) {
      await stop();
      const what = pending.size
        ? `accept connections on 127.0.0.1:${[...pending].join(", ")}`
        : `log ${o.readyPattern}`;
      throw new Error(`${o.name} did not ${what} within ${o.startTimeoutMs ?? 5000} ms\n${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (o.exactPorts) {
    const extra = listeningPorts(child.pid!).filter((p) => !o.ports.includes(p) && !o.exactPorts!.except.includes(p));
    if (extra.length > 0) {
      await stop();
      throw new Error(
        `${o.name} listens on unexpected TCP port(s) ${extra.join(", ")} (expected only ${o.ports.join(", ")})\n${logs()}`,
      );
    }
  }
  return { name: o.name, pid: child.pid!, stop, logs };
}
