// Probes that discover the homeserver the way clients and other servers do (discovery.ts).
import { deepStrictEqual } from "node:assert/strict";
import type { SitePlan } from "../../src/index.js";
import { ensure, exchange, reachedOnce, statusIn, hostnameOf, MARK, type Env, type Obs } from "./exchange.ts";
import { findClientConfig, loopbackFetch, resolveServerName, type Resolved } from "./discovery.ts";
import type { Loopback } from "./loopback.ts";
import type { Probe } from "./plan-probes.ts";

/** Thrown by a check whose precondition the Plan does not meet: reported, not counted. */
export class NotApplicable extends Error {
  override name = "NotApplicable";
}

export function discoveryProbes(lb: Loopback): Probe[] {
  return lb.plan.sites.flatMap((s) => [clientProbe(lb, s), serverProbe(lb, s)]);
}

// --- internal ---

function clientProbe(lb: Loopback, s: SitePlan): Probe {
  const doc = s.wellKnown.find((d) => d.name === "client")?.json as Record<string, any> | undefined;
  const unmarkedVersions = () =>
    lb.upstreams.map((u) => u.stub.requests.filter((r) => r.url === "/_matrix/client/versions" && r.headers[MARK] === undefined).length);
  return {
    behaviour: "client-discovery",
    name: `${s.serverName}: matrix-js-sdk AutoDiscovery.findClientConfig`,
    async observe() {
      const before = unmarkedVersions();
      const { result, outside } = await findClientConfig(lb, s.serverName);
      const after = unmarkedVersions();
      return { result, outside, versionsAt: after.map((n, k) => n - before[k]!) };
    },
    check(o: { result: Record<string, any>; outside: string[]; versionsAt: number[] }) {
      const hs = o.result["m.homeserver"];
      if (!doc) {
        ensure(hs.state === "PROMPT", `no client document: want state PROMPT, got ${JSON.stringify(hs)}`);
        return;
      }
      const want = String(doc["m.homeserver"].base_url).replace(/\/+$/, "");
      ensure(hs.state === "SUCCESS" && hs.base_url === want, `m.homeserver ${JSON.stringify(hs)}, want SUCCESS with ${want}`);
      const target = lb.plan.sites.findIndex((x) => new URL(want).hostname === x.host);
      if (target >= 0) {
        const ep = lb.upstreamOf(target);
        ensure(o.versionsAt[lb.upstreams.indexOf(ep)]! >= 1, `the SDK's /_matrix/client/versions did not reach ${lb.plan.sites[target]!.host}'s upstream (per upstream: ${o.versionsAt})`);
      }
      const is = doc["m.identity_server"]?.base_url;
      if (is) {
        const isWant = String(is).replace(/\/+$/, "");
        ensure(o.result["m.identity_server"].state === "SUCCESS" && o.result["m.identity_server"].base_url === isWant, `m.identity_server ${JSON.stringify(o.result["m.identity_server"])}`);
      }
      for (const [k, v] of Object.entries(doc)) if (k !== "m.homeserver" && k !== "m.identity_server") deepStrictEqual(o.result[k], v, `key ${k}`);
    },
  };
}

function serverProbe(lb: Loopback, s: SitePlan): Probe {
  return {
    behaviour: "server-discovery",
    name: `${s.serverName}: m.server resolution and a federation request`,
    async observe(env: Env) {
      const f = loopbackFetch(lb, { urls: [] });
      let resolved: Resolved;
      try {
        resolved = await resolveServerName(s.serverName, f.fetch);
      } finally {
        await f.close();
      }
      const target = lb.plan.sites.findIndex((x) => x.host === resolved.host);
      const port = lb.connectPort(resolved.host, resolved.port);
      if (port === null || target < 0) return { resolved };
      const obs = await exchange(env, { scheme: "https", port, sni: resolved.sni, hostHeader: resolved.hostHeader, target: "/_matrix/federation/v1/version" }, target);
      return { resolved, obs, target };
    },
    check(o: { resolved: Resolved; obs?: Obs; target?: number }) {
      const r = o.resolved;
      if (s.federationTarget === null) {
        ensure(r.rule === "srv-or-8448", `federation off: want no delegation, got ${JSON.stringify(r)}`);
        return;
      }
      ensure(r.rule === "well-known-port", `resolved by rule ${r.rule} (want well-known-port: m.server with an explicit port) ${JSON.stringify(r)}`);
      ensure(`${r.host}:${r.port}` === s.federationTarget, `resolved ${r.host}:${r.port}, Plan's m.server is ${s.federationTarget}`);
      if (!o.obs) {
        throw new NotApplicable(
          `m.server ${s.federationTarget} names port ${r.port}, on which this site file does not listen (listen.https ${lb.original.sites[s.index]!.listen.https}, no federation listener): federation then relies on something outside mxproxy`,
        );
      }
      statusIn(o.obs, [200]);
      const rec = reachedOnce(o.obs);
      // Host itself is the fwd-host probe's business (Apache differs for HTTPS upstreams); here the
      // public name must reach the homeserver as Host or, failing that, as X-Forwarded-Host.
      const names = [rec.headers.host, rec.headers["x-forwarded-host"]].map((h) => hostnameOf(String(h ?? "")));
      ensure(names.includes(r.host), `upstream Host ${rec.headers.host} / X-Forwarded-Host ${rec.headers["x-forwarded-host"]}, want ${r.host}`);
    },
  };
}
