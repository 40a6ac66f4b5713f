// Runs the probe list against one live server: the parallel batch first, then the exclusive
// probes one by one; each observation is judged by the probe's own check, or by the stated
// difference for this backend (behaviours.ts).
import { EXPECTED_DIFFERENCES, type Backend } from "./behaviours.ts";
import { NotApplicable } from "./discovery-probes.ts";
import type { Env } from "./exchange.ts";
import type { Loopback } from "./loopback.ts";
import type { Probe } from "./plan-probes.ts";

export type Outcome = "pass" | "difference" | "fail" | "n/a";

export interface ProbeResult {
  fixture: string;
  backend: Backend | "traefik";
  behaviour: string;
  probe: string;
  outcome: Outcome;
  /** difference: why; fail: what went wrong; n/a: why it does not apply */
  message?: string;
  ms: number;
}

export async function runProbes(lb: Loopback, backend: Backend, probes: Probe[]): Promise<ProbeResult[]> {
  let n = 0;
  const env: Env = { lb, backend, marker: () => `${lb.name}/${backend}/${++n}` };
  const one = async (p: Probe): Promise<ProbeResult> => {
    const t0 = performance.now();
    const base = { fixture: lb.name, backend, behaviour: p.behaviour, probe: p.name };
    let obs: unknown;
    try {
      obs = p.heavy ? await heavy(() => p.observe(env)) : await p.observe(env);
    } catch (e) {
      return { ...base, outcome: "fail", message: `probe could not run: ${(e as Error).stack ?? e}`, ms: performance.now() - t0 };
    }
    return { ...base, ...judge(p, backend, obs), ms: performance.now() - t0 };
  };
  const results = await Promise.all(probes.filter((p) => !p.exclusive).map(one));
  for (const p of probes.filter((p) => p.exclusive)) results.push(await one(p));
  return results;
}

/**
 * Big uploads run at most HEAVY_AT_ONCE at a time, process-wide: a burst of 50 MiB bodies
 * through loopback TLS (all fixtures at once) stalls the stubs' answers for seconds on a 2-core
 * machine, and a stub that answers late looks like a proxy timing out.
 */
const HEAVY_AT_ONCE = 2;
let heavyActive = 0;
const heavyWaiting: (() => void)[] = [];
async function heavy<T>(fn: () => Promise<T>): Promise<T> {
  if (heavyActive >= HEAVY_AT_ONCE) await new Promise<void>((go) => heavyWaiting.push(go));
  heavyActive++;
  try {
    return await fn();
  } finally {
    heavyActive--;
    heavyWaiting.shift()?.();
  }
}

function judge(p: Probe, backend: Backend, obs: unknown): { outcome: Outcome; message?: string } {
  const stated = EXPECTED_DIFFERENCES[p.behaviour]?.[backend];
  const diff = stated && (!stated.onlyWith || p.tags?.includes(stated.onlyWith)) ? stated : undefined;
  const standard = attempt(() => p.check(obs));
  if (!diff) {
    if (standard === undefined) return { outcome: "pass" };
    if (standard instanceof NotApplicable) return { outcome: "n/a", message: standard.message };
    return { outcome: "fail", message: standard.message };
  }
  if (standard === undefined) {
    return { outcome: "fail", message: `${backend} now behaves like the others here: remove its entry for "${p.behaviour}" from EXPECTED_DIFFERENCES (test/probes/behaviours.ts)` };
  }
  const alt = attempt(() => diff.check(obs));
  if (alt === undefined) return { outcome: "difference", message: diff.reason };
  return { outcome: "fail", message: `neither the common behaviour (${standard.message}) nor the stated difference (${alt.message})` };
}

function attempt(fn: () => void): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
