// Free loopback ports for the real servers.
//
// Why not just "bind port 0": OS-assigned ports come from the ephemeral range, which the proxies'
// own upstream connections and our clients also draw from, so a port we hand out could be taken
// by an outgoing socket before the server binds it. And Caddy 2.6 listens with SO_REUSEPORT
// (measured: two caddy processes on one port both start and split the connections), so a
// collision with a parallel test file would not even fail loudly. Hence: pick below the ephemeral
// range, prove the port bindable, and hold a per-port lock file (O_EXCL, owner pid inside) that
// parallel test processes respect until this process exits.
import { mkdirSync, openSync, writeSync, closeSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atTermination } from "./proc.ts";

const lockDir = join(tmpdir(), "mxproxy-test-ports");
const held = new Set<number>();

function ephemeralLow(): number {
  try {
    const [lo] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    return Number(lo) || 32768;
  } catch {
    return 32768;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Take the lock file for `port`; steal it only when its owner process is gone. */
function lock(port: number): boolean {
  const file = join(lockDir, String(port));
  try {
    const fd = openSync(file, "wx", 0o644);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const owner = Number(readFileSync(file, "utf8"));
  if (owner && owner !== process.pid && pidAlive(owner)) return false;
  if (owner === process.pid) return false; // ours already (held set covers it)
  writeFileSync(file, String(process.pid)); // stale: a crashed run left it
  return true;
}

function unlock(port: number): void {
  try {
    if (Number(readFileSync(join(lockDir, String(port)), "utf8")) === process.pid) {
      unlinkSync(join(lockDir, String(port)));
    }
  } catch {
    /* already gone */
  }
}

atTermination(() => {
  for (const p of held) unlock(p);
});

/** Resolves true when nothing listens on `port` on any address (dual-stack wildcard, else v4). */
function bindable(port: number, host = "::"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => {
      if (host === "::" && (e.code === "EAFNOSUPPORT" || e.code === "EADDRNOTAVAIL")) {
        resolve(bindable(port, "0.0.0.0"));
      } else resolve(false);
    });
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function osAssigned(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** `n` distinct ports, free now and reserved against this and other test processes. */
export async function freePorts(n: number): Promise<number[]> {
  mkdirSync(lockDir, { recursive: true, mode: 0o777 });
  const hi = ephemeralLow();
  const lo = 10000;
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 2000) throw new Error(`freePorts: found only ${out.length} of ${n} free ports`);
    // Fall back to the OS when the ephemeral range leaves no room below it.
    const port = hi - lo >= 1000 ? lo + Math.floor(Math.random() * (hi - lo)) : await osAssigned();
    if (held.has(port) || !lock(port)) continue;
    if (!(await bindable(port))) {
      unlock(port);
      continue;
    }
    held.add(port);
    out.push(port);
  }
  return out;
}

/** Give ports back early (optional; everything is released at process exit anyway). */
export function releasePorts(ports: number[]): void {
  for (const p of ports) {
    if (held.delete(p)) unlock(p);
  }
}
