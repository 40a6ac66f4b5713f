// Live conformance: every fixture, made runnable on loopback (test/probes/loopback.ts), rendered
// with the library, syntax-checked, then served by real nginx, Apache and Caddy in turn; the one
// probe list derived from the Plan (test/probes/plan-probes.ts) runs against each. A backend that
// cannot show a behaviour is held to the stated alternative in test/probes/behaviours.ts.
// Loopback sites use a 5 s upstream timeout (TIMEOUT_SECONDS): the slow-stub probe waits that
// long once per server, in parallel with everything else. Results also go to
// .tmp/probe-results.json (full runs only), which `npm run table` turns into the README's table.
//   MXPROXY_PROBE_FIXTURES=minimal,full   run a subset (no results file then)
//   MXPROXY_PROBE_CONCURRENCY=4           fixtures served at once (default 4)
import { after, before, describe, test, type TestContext } from "node:test";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtures, ROOT } from "./_fixtures.ts";
import * as h from "./harness/servers.ts";
import { atTermination } from "./harness/proc.ts";
import { BEHAVIOURS, LIVE_BACKENDS, type Backend } from "./probes/behaviours.ts";
import { makeLoopback, type Loopback } from "./probes/loopback.ts";
import { probesFor } from "./probes/plan-probes.ts";
import { runProbes, type ProbeResult } from "./probes/run.ts";

const only = process.env.MXPROXY_PROBE_FIXTURES?.split(",").filter(Boolean);
const selected = fixtures().filter((f) => !only || only.includes(f.name));
const concurrency = Number(process.env.MXPROXY_PROBE_CONCURRENCY ?? 4);
const results: ProbeResult[] = [];
const started = performance.now();
/** event-loop delay while servers run (a stub that answers late looks like a proxy timeout) */
const lag = monitorEventLoopDelay({ resolution: 20 });

after(() => {
  const s = (performance.now() - started) / 1000;
  process.stderr.write(
    `conformance: ${results.length} probe results, ${selected.length} fixtures × ${LIVE_BACKENDS.length} servers in ${s.toFixed(1)} s; event-loop delay max ${Math.round(lag.max / 1e6)} ms, p99 ${Math.round(lag.percentile(99) / 1e6)} ms\n`,
  );
  if (only) return;
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const file = { suite: "conformance", behaviours: BEHAVIOURS, fixtures: selected.map((f) => f.name), backends: LIVE_BACKENDS, versions: serverVersions(), results };
  writeFileSync(join(ROOT, ".tmp", "probe-results.json"), JSON.stringify(file, null, 1) + "\n");
});

// Everything synchronous (test PKIs via openssl, rendering) happens here, before any server
// runs: a blocked event loop would delay the stubs' answers past the short upstream timeout.
const loopbacks = new Map<string, Loopback>();
const bases: string[] = [];
before(async () => {
  for (const fx of selected) {
    const base = mkdtempSync(join(tmpdir(), `mxproxy-conf-${fx.name}-`));
    chmodSync(base, 0o755); // the servers' workers (nobody) read certificates and sockets here
    bases.push(base);
    loopbacks.set(fx.name, await makeLoopback(fx.name, fx.text, base));
  }
  lag.enable();
});
atTermination(() => bases.forEach((b) => rmSync(b, { recursive: true, force: true })));
after(async () => {
  lag.disable();
  await Promise.all([...loopbacks.values()].map((lb) => lb.close()));
  bases.forEach((b) => rmSync(b, { recursive: true, force: true }));
});

describe("conformance (real nginx, Apache, Caddy)", { concurrency }, () => {
  for (const fx of selected) {
    test(fx.name, async (t) => {
      const lb = loopbacks.get(fx.name)!;
      for (const backend of LIVE_BACKENDS) await t.test(backend, (t2) => serveAndProbe(t2, lb, backend, bases[selected.indexOf(fx)]!));
    });
  }
});

async function serveAndProbe(t: TestContext, lb: Loopback, backend: Backend, base: string): Promise<void> {
  const out = mkdtempSync(join(base, `out-${backend}-`));
  const work = mkdtempSync(join(base, `work-${backend}-`));
  lb.writeOut(out);
  const syntax = await syntaxCheck(backend, out, work);
  results.push({ fixture: lb.name, backend, behaviour: "syntax", probe: `${backend} syntax check`, outcome: syntax ? "fail" : "pass", ...(syntax ? { message: syntax } : {}), ms: 0 });
  await t.test("syntax check", () => {
    if (syntax) throw new Error(syntax);
  });
  if (syntax) return;

  for (const u of lb.upstreams) u.reset();
  const ports = [...lb.portMap.values()];
  const t0 = performance.now();
  let srv: h.Running;
  try {
    srv = await start(backend, out, work, ports, lb);
  } catch (e) {
    // No probe ran: the table must show a failure, not an empty cell.
    results.push({ fixture: lb.name, backend, behaviour: "syntax", probe: `${backend} starts with the rendered files`, outcome: "fail", message: (e as Error).message, ms: 0 });
    throw e;
  }
  let mine: ProbeResult[];
  let logs = "";
  try {
    mine = await runProbes(lb, backend, probesFor(lb));
  } finally {
    logs = srv.logs();
    await srv.stop();
  }
  results.push(...mine);
  t.diagnostic(`${lb.name} × ${backend}: ${mine.length} probes, server up ${Math.round(performance.now() - t0)} ms`);
  for (const r of mine) {
    await t.test(`${r.behaviour}: ${r.probe}`, (t3) => {
      if (r.outcome === "difference") t3.diagnostic(`expected difference: ${r.message}`);
      if (r.outcome === "n/a") t3.diagnostic(`not applicable: ${r.message}`);
      if (r.outcome === "fail") throw new Error(`${r.message}\n--- ${backend} logs (last 4000 characters) ---\n${logs.slice(-4000)}`);
    });
  }
}

/** "nginx/1.22.1", … as the binaries report them (for the README table's caption). */
function serverVersions(): Record<Backend, string> {
  const v = (bin: string, args: string[], re: RegExp) => {
    const r = spawnSync(h.requireBinary(bin), args, { encoding: "utf8", env: { ...process.env, LANG: "C" } });
    return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "unknown";
  };
  return {
    nginx: v("nginx", ["-v"], /nginx\/([0-9.]+)/),
    apache: v("apache2", ["-v"], /Apache\/([0-9.]+)/),
    caddy: v("caddy", ["version"], /v?([0-9]+\.[0-9]+\.[0-9]+)/),
  };
}

/** The real parser on the rendered files; returns the failure output, or "" when they pass. */
async function syntaxCheck(backend: Backend, out: string, work: string): Promise<string> {
  try {
    if (backend === "nginx") await h.nginxCheck(out, work);
    if (backend === "apache") await h.apacheCheck(out, work);
    if (backend === "caddy") {
      await h.caddyValidate(out, work);
      if (!(await h.caddyFmtUnchanged(join(out, "caddy", "Caddyfile"), work))) return "caddy fmt would change the Caddyfile";
    }
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

async function start(backend: Backend, out: string, work: string, ports: number[], lb: Loopback): Promise<h.Running> {
  if (backend === "nginx") return h.startNginx(out, { workDir: work, ports });
  if (backend === "apache") return h.startApache(out, { workDir: work, ports });
  // Caddy dials HTTPS upstreams with the system pool; SSL_CERT_FILE adds the test CA to it (what
  // trustTestCa does for the file nginx and Apache name). Only the spawned process reads it.
  const https = lb.plan.sites.some((s) => s.upstream.kind === "tcp" && s.upstream.scheme === "https");
  const saved = process.env.SSL_CERT_FILE;
  if (https) process.env.SSL_CERT_FILE = lb.trustBundle;
  try {
    return await h.startCaddy(out, { workDir: work });
  } finally {
    if (https) saved === undefined ? delete process.env.SSL_CERT_FILE : (process.env.SSL_CERT_FILE = saved);
  }
}
