// Requests for names the site file does not serve, on every port it listens on: they must never
// reach a homeserver. A refused handshake, 421, 403, 404 or 444 (connection closed) are all fine.
import { ensure, exchange, notReached, summary, type Obs } from "./exchange.ts";
import type { Loopback } from "./loopback.ts";
import type { Probe } from "./plan-probes.ts";

export const UNKNOWN = "unknown.invalid";
const REFUSED = [421, 403, 404, 444];

export function unknownHostProbes(lb: Loopback): Probe[] {
  const out: Probe[] = [];
  const refuse = (o: Obs) => {
    notReached(o);
    ensure(o.status === null || REFUSED.includes(o.status), `expected a refused handshake or ${REFUSED.join("/")}: ${summary(o)}`);
  };
  const add = (name: string, req: Parameters<typeof exchange>[1]) =>
    out.push({ behaviour: "unknown-host", name: `unknown host: ${name}`, observe: (env) => exchange(env, req, null, { settle: true }), check: refuse });

  const seen = new Set<number>();
  for (const s of lb.plan.sites) {
    if (!seen.has(s.listen.https)) {
      seen.add(s.listen.https);
      const p = s.listen.https;
      for (const sni of new Set([s.serverName, s.host])) {
        add(`https SNI ${sni}, Host ${UNKNOWN}`, { scheme: "https", port: p, sni, hostHeader: `${UNKNOWN}:${p}`, target: "/_matrix/client/versions" });
      }
      add(`https SNI ${s.host}, Host 127.0.0.1`, { scheme: "https", port: p, sni: s.host, hostHeader: `127.0.0.1:${p}`, target: "/_matrix/client/versions" });
      add(`https SNI ${UNKNOWN}, Host ${UNKNOWN}`, { scheme: "https", port: p, sni: UNKNOWN, hostHeader: `${UNKNOWN}:${p}`, target: "/_matrix/client/versions", insecure: true });
    }
    if (s.listen.http !== null && !seen.has(s.listen.http)) {
      seen.add(s.listen.http);
      add(`http Host ${UNKNOWN}`, { scheme: "http", port: s.listen.http, sni: UNKNOWN, hostHeader: `${UNKNOWN}:${s.listen.http}`, target: "/_matrix/client/versions" });
    }
    if (s.federationListener !== null && !seen.has(s.federationListener)) {
      seen.add(s.federationListener);
      const p = s.federationListener;
      add(`federation port SNI ${s.host}, Host ${UNKNOWN}`, { scheme: "https", port: p, sni: s.host, hostHeader: `${UNKNOWN}:${p}`, target: "/_matrix/federation/v1/version" });
      add(`federation port SNI ${UNKNOWN}`, { scheme: "https", port: p, sni: UNKNOWN, hostHeader: `${UNKNOWN}:${p}`, target: "/_matrix/federation/v1/version", insecure: true });
    }
  }
  return out;
}
