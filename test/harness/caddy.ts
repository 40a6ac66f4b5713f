// Caddy around mxproxy's OUT/caddy/Caddyfile (complete on its own, so no wrapper file). Every
// caddy command writes state under $HOME / XDG dirs, so all of them point into WORK/caddy/.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { launch, type Running } from "./launch.ts";
import { check, requireBinary, run } from "./proc.ts";

function caddyEnv(workDir: string): NodeJS.ProcessEnv {
  const home = resolve(workDir, "caddy");
  mkdirSync(join(home, "data"), { recursive: true });
  mkdirSync(join(home, "config"), { recursive: true });
  return {
    ...process.env,
    HOME: home,
    XDG_DATA_HOME: join(home, "data"),
    XDG_CONFIG_HOME: join(home, "config"),
  };
}

const caddyfileOf = (outDir: string) => join(resolve(outDir), "caddy", "Caddyfile");

/** `caddy validate` (adapts and provisions, binds nothing); throws with Caddy's output on failure. */
export async function caddyValidate(outDir: string, workDir: string): Promise<string> {
  const bin = requireBinary("caddy");
  return check(
    "caddy",
    bin,
    ["validate", "--config", caddyfileOf(outDir), "--adapter", "caddyfile"],
    caddyEnv(workDir),
  );
}

/** What `caddy fmt` makes of the file (Caddy 2.6 prints the result to stdout). */
export async function caddyFmt(caddyfilePath: string, workDir: string): Promise<string> {
  const bin = requireBinary("caddy");
  const r = await run(bin, ["fmt", caddyfilePath], { env: caddyEnv(workDir) });
  if (r.code !== 0) throw new Error(`caddy fmt ${caddyfilePath} failed (exit ${r.code})\n${r.output}`);
  return r.stdout;
}

/** True when `caddy fmt` would leave the file byte for byte as it is. */
export async function caddyFmtUnchanged(caddyfilePath: string, workDir: string): Promise<boolean> {
  return (await caddyFmt(caddyfilePath, workDir)) === readFileSync(caddyfilePath, "utf8");
}

/**
 * TCP ports the adapted config declares (`caddy adapt` → apps.http.servers.*.listen), so callers
 * need not repeat them. Not included: the automatic HTTP→HTTPS redirect server Caddy adds at
 * provisioning time on `http_port` (80 unless the Caddyfile's global options say otherwise).
 */
export async function caddyListenPorts(outDir: string, workDir: string): Promise<number[]> {
  const bin = requireBinary("caddy");
  const r = await run(bin, ["adapt", "--config", caddyfileOf(outDir), "--adapter", "caddyfile"], {
    env: caddyEnv(workDir),
  });
  if (r.code !== 0) throw new Error(`caddy adapt failed (exit ${r.code})\n${r.output}`);
  const cfg = JSON.parse(r.stdout) as {
    apps?: { http?: { servers?: Record<string, { listen?: string[] }> } };
  };
  const ports = new Set<number>();
  for (const srv of Object.values(cfg.apps?.http?.servers ?? {})) {
    for (const addr of srv.listen ?? []) {
      const m = /:(\d+)(?:-(\d+))?$/.exec(addr); // "[tcp/]host:port" or a port range
      if (m) ports.add(Number(m[1]));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export async function startCaddy(
  outDir: string,
  opts: {
    workDir: string;
    /** ports to wait for (default: caddyListenPorts) */
    ports?: number[];
    /** further ports Caddy may listen on without failing the start */
    allowPorts?: number[];
    startTimeoutMs?: number;
  },
): Promise<Running> {
  await caddyValidate(outDir, opts.workDir);
  const bin = requireBinary("caddy");
  const ports = opts.ports ?? (await caddyListenPorts(outDir, opts.workDir));
  // Caddy 2.6 listens with SO_REUSEPORT, so a second caddy on a taken port starts silently and
  // the kernel splits connections between them; and without `http_port` in the global options it
  // also binds :80 for redirects even when every site uses another port (measured). Both make
  // parallel tests flaky and the latter is a real bug for users who moved HTTP off :80, hence
  // exactPorts. 2019 is the admin endpoint (also SO_REUSEPORT, never used by the tests).
  return launch({
    name: "caddy",
    cmd: bin,
    args: ["run", "--config", caddyfileOf(outDir), "--adapter", "caddyfile"],
    env: caddyEnv(opts.workDir),
    ports,
    logFiles: [], // Caddy logs to stderr, which launch() keeps
    stopSignal: "SIGTERM",
    // logged after every server (the automatic redirect one included) is listening
    readyPattern: /"msg":"serving initial configuration"/,
    exactPorts: { except: [2019, ...(opts.allowPorts ?? [])] },
    startTimeoutMs: opts.startTimeoutMs,
  });
}
