// One probe request plus what the upstream stubs saw of it. Every request carries a unique marker
// header, so probes can run in parallel against one server and still find their own records,
// and a request that reached the wrong site's homeserver is told apart from one that reached none.
import type { StubRecord } from "../harness/servers.ts";
import { send, sleep, type Req, type Res } from "./http.ts";
import type { Loopback } from "./loopback.ts";
import type { Backend } from "./behaviours.ts";

export const MARK = "x-mxproxy-probe";
/** How long a "never reaches the upstream" probe waits after the answer before looking. */
export const SETTLE_MS = 150;

export interface Env {
  lb: Loopback;
  backend: Backend;
  /** a fresh marker value */
  marker(): string;
}

export interface Obs extends Res {
  marker: string;
  /** records of this request at the site's own upstream */
  records: StubRecord[];
  /** records of this request at any other upstream of the file */
  elsewhere: number;
  /** records anywhere */
  reached: number;
}

/** exchange sends `req` (marker added) and collects the stub records it caused. */
export async function exchange(env: Env, req: Omit<Req, "ca">, siteIndex: number | null, o: { settle?: boolean } = {}): Promise<Obs> {
  const marker = env.marker();
  const res = await send({ ...req, ca: env.lb.pki.ca, headers: { ...req.headers, [MARK]: marker } });
  if (o.settle) await sleep(SETTLE_MS);
  return { ...res, ...recordsOf(env, marker, siteIndex) };
}

/** recordsOf finds the stub records carrying `marker`. */
export function recordsOf(env: Env, marker: string, siteIndex: number | null): { marker: string; records: StubRecord[]; elsewhere: number; reached: number } {
  const own = siteIndex === null ? undefined : env.lb.upstreamOf(siteIndex);
  const records: StubRecord[] = [];
  let elsewhere = 0;
  for (const u of env.lb.upstreams) {
    for (const r of u.stub.requests) {
      if (r.headers[MARK] !== marker) continue;
      if (u === own) records.push(r);
      else elsewhere++;
    }
  }
  return { marker, records, elsewhere, reached: records.length + elsewhere };
}

export function ensure(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** A one-line account of an observation for failure messages. */
export function summary(o: Obs): string {
  const status = o.status === null ? `no HTTP answer (${o.error})` : `status ${o.status}`;
  const body = o.body.length > 0 ? `, body ${JSON.stringify(o.body.toString("utf8").slice(0, 200))}` : "";
  return `${status}${body}; upstream saw it ${o.records.length}× (other upstreams: ${o.elsewhere}×)`;
}

/** The request reached this site's upstream exactly once, and no other; returns its record. */
export function reachedOnce(o: Obs): StubRecord {
  ensure(o.records.length === 1 && o.elsewhere === 0, `expected the site's upstream to see the request once: ${summary(o)}`);
  return o.records[0]!;
}

export function notReached(o: Obs): void {
  ensure(o.reached === 0, `the upstream must not see this request: ${summary(o)}`);
}

export function statusIn(o: Obs, allowed: number[]): void {
  ensure(o.status !== null && allowed.includes(o.status), `expected status ${allowed.join("/")}: ${summary(o)}`);
}

/** Header values received under `name` (any case), in order. */
export function headerValues(raw: [string, string][], name: string): string[] {
  return raw.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/** `host` without a port (`[v6]` kept bracketed). */
export function hostnameOf(hostHeader: string): string {
  return hostHeader.replace(/:[0-9]+$/, "").toLowerCase();
}
