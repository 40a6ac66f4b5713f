// THE probe list: derived from the Plan alone (documents, names, ports, limits, timeout,
// upstream kind), the same for every backend. A probe observes (I/O) and checks (pure), so a
// stated backend difference (behaviours.ts) can check the same observation differently.
import { deepStrictEqual } from "node:assert/strict";
import type { SitePlan } from "../../src/index.js";
import { handshake } from "./http.ts";
import { uploadProbes } from "./upload-probes.ts";
import { ensure, exchange, hostnameOf, notReached, reachedOnce, statusIn, summary, headerValues, type Env, type Obs } from "./exchange.ts";
import type { Loopback } from "./loopback.ts";
import { discoveryProbes } from "./discovery-probes.ts";
import { unknownHostProbes } from "./unknown-host-probes.ts";

export interface Probe {
  behaviour: string;
  /** stable and unique within a fixture: "example.com: GET /.well-known/matrix/client" */
  name: string;
  /** runs alone, after the parallel batch (it changes shared state, e.g. the upstream's certificate) */
  exclusive?: boolean;
  /** facts about the site that a stated difference may depend on (e.g. "https-upstream") */
  tags?: string[];
  /** sends a body of max_upload bytes or more (run.ts limits how many run at once) */
  heavy?: boolean;
  observe(env: Env): Promise<unknown>;
  check(obs: any): void;
}

/** Raw request targets that must reach the homeserver byte for byte. */
export const RAW_TARGETS = [
  "/_matrix/client/v3/rooms/%21abc%3Aexample.com/state/m.room.member/%40alice%3Aexample.com?format=event",
  "/_matrix/media/v3/download/example.com/a%2Fb%2F..%2Fc?allow_redirect=true&q=%2F%3F%26",
  "/_matrix/client/v3/x/%252F/%2525/y?a=%252F&b=%25",
  "/_matrix/federation/v1/send/txn%3A1%2B2%3Bx/%20sp%23hash%3Fq?x=1&&y=%20+z",
  "/_matrix/client//v3///double//slashes?empty=&dup=1&dup=2",
];

const WK_NAMES = ["client", "server", "support"] as const;
const NOT_SERVED_STATUS = [404];

export function probesFor(lb: Loopback): Probe[] {
  return [...lb.plan.sites.flatMap((s) => siteProbes(lb, s)), ...unknownHostProbes(lb), ...discoveryProbes(lb)];
}

// --- internal ---

function siteProbes(lb: Loopback, s: SitePlan): Probe[] {
  const i = s.index;
  const https = (name: string, target: string, extra: Partial<Parameters<typeof exchange>[1]> = {}) => ({
    scheme: "https" as const, port: s.listen.https, sni: name, hostHeader: `${name}:${s.listen.https}`, target, ...extra,
  });
  const out: Probe[] = [];
  const tags = s.upstream.kind === "tcp" && s.upstream.scheme === "https" ? ["https-upstream"] : [];
  const add = (behaviour: string, name: string, observe: Probe["observe"], check: Probe["check"], exclusive = false) =>
    out.push({ behaviour, name: `${s.serverName}: ${name}`, observe, check, exclusive, tags });

  // 1. well-known documents on the server name
  for (const doc of s.wellKnown) {
    const file = lb.files.find((f) => f.path === `well-known/${s.serverName}${doc.path}`);
    add("wk-body", `GET ${doc.path}`, (env) => exchange(env, https(s.serverName, doc.path), i, { settle: true }), (o: Obs) => {
      statusIn(o, [200]);
      notReached(o);
      ensure(file, `no out/well-known file for ${doc.path}`);
      ensure(o.body.toString("utf8") === file.contents, `body differs from out/well-known bytes:\n got ${JSON.stringify(o.body.toString("utf8"))}\nwant ${JSON.stringify(file.contents)}`);
      ensure(file.contents === doc.body, "out/well-known differs from the Plan's body");
      deepStrictEqual(JSON.parse(o.body.toString("utf8")), doc.json);
    });
    add("wk-type", `Content-Type of ${doc.path}`, (env) => exchange(env, https(s.serverName, doc.path), i), (o: Obs) => {
      const ct = headerValues(o.rawHeaders, "content-type");
      ensure(ct.length === 1 && ct[0] === "application/json", `Content-Type headers: ${JSON.stringify(ct)} (want exactly ["application/json"])`);
    });
    add("wk-cors", `CORS of ${doc.path}`, (env) => exchange(env, https(s.serverName, doc.path), i), (o: Obs) => {
      const acao = headerValues(o.rawHeaders, "access-control-allow-origin");
      ensure(acao.length === 1 && acao[0] === "*", `Access-Control-Allow-Origin: ${JSON.stringify(acao)} (want exactly ["*"])`);
      for (const [h, want] of [["access-control-allow-methods", "GET"], ["access-control-allow-headers", "Authorization"]] as const) {
        const v = headerValues(o.rawHeaders, h);
        ensure(v.length === 1 && v[0]!.includes(want), `${h}: ${JSON.stringify(v)} (want one value listing ${want})`);
      }
    });
    add("wk-head", `HEAD ${doc.path}`, (env) => exchange(env, https(s.serverName, doc.path, { method: "HEAD" }), i, { settle: true }), (o: Obs) => {
      statusIn(o, [200]);
      notReached(o);
      ensure(o.body.length === 0, `HEAD returned a body of ${o.body.length} bytes`);
      ensure(JSON.stringify(headerValues(o.rawHeaders, "content-type")) === '["application/json"]', `HEAD Content-Type: ${JSON.stringify(headerValues(o.rawHeaders, "content-type"))}`);
      ensure(headerValues(o.rawHeaders, "access-control-allow-origin")[0] === "*", "HEAD lacks Access-Control-Allow-Origin: *");
      const cl = o.headers["content-length"];
      ensure(cl === undefined || Number(cl) === Buffer.byteLength(doc.body), `HEAD Content-Length ${cl}, document has ${Buffer.byteLength(doc.body)} bytes`);
    });
  }

  // 1a. TLS: each name's certificate verifies under its SNI; TLS 1.2 and 1.3 both work
  for (const name of new Set([s.serverName, s.host])) {
    add("tls", `TLS for ${name}`, async () => {
      const got: Record<string, string> = {};
      for (const v of ["TLSv1.2", "TLSv1.3"] as const) got[v] = await handshake(s.listen.https, name, lb.pki.ca, v);
      return got;
    }, (o: Record<string, string>) => {
      for (const [v, r] of Object.entries(o)) ensure(r === v, `${v} handshake for ${name}: ${r}`);
    });
  }

  // 1b. well-known paths we do not serve: never proxied, on either name
  const unserved: [string, string][] = WK_NAMES.filter((n) => !s.wellKnown.some((d) => d.name === n)).map((n) => [s.serverName, `/.well-known/matrix/${n}`]);
  unserved.push([s.serverName, "/.well-known/matrix/unknown-document"]);
  if (!s.sameHost) for (const n of [...WK_NAMES, "unknown-document"]) unserved.push([s.host, `/.well-known/matrix/${n}`]);
  for (const [name, path] of unserved) {
    add("wk-unserved", `GET https://${name}${path}`, (env) => exchange(env, https(name, path), i, { settle: true }), (o: Obs) => {
      notReached(o);
      statusIn(o, NOT_SERVED_STATUS);
    });
  }
  if (s.federationListener !== null) {
    add("wk-unserved", `GET ${s.host}:federation /.well-known/matrix/server`, (env) => exchange(env, { ...https(s.host, "/.well-known/matrix/server"), port: s.federationListener!, hostHeader: `${s.host}:${s.federationListener}` }, i, { settle: true }), (o: Obs) => {
      notReached(o);
      statusIn(o, NOT_SERVED_STATUS);
    });
  }
  if (!s.sameHost) {
    add("name-only", `GET https://${s.serverName}/_matrix/client/versions`, (env) => exchange(env, https(s.serverName, "/_matrix/client/versions"), i, { settle: true }), (o: Obs) => {
      notReached(o);
      statusIn(o, NOT_SERVED_STATUS);
    });
  }

  // 2. forwarded headers
  add("fwd-host", "Host at the upstream", (env) => exchange(env, https(s.host, "/_matrix/client/versions"), i), (o: Obs) => {
    statusIn(o, [200]);
    const r = reachedOnce(o);
    const hosts = headerValues(r.rawHeaders, "host");
    ensure(hosts.length === 1, `upstream got ${hosts.length} Host headers: ${JSON.stringify(hosts)}`);
    ensure(hostnameOf(hosts[0]!) === s.host, `upstream Host ${JSON.stringify(hosts[0])}, want ${s.host} (port optional)`);
    const port = /:([0-9]+)$/.exec(hosts[0]!)?.[1];
    ensure(port === undefined || Number(port) === s.listen.https, `upstream Host ${hosts[0]} names another port than the client sent (${s.listen.https})`);
  });
  for (const spoof of [undefined, "203.0.113.7"]) {
    add("fwd-xff", spoof ? "X-Forwarded-For sent by the client is replaced" : "X-Forwarded-For", (env) => exchange(env, https(s.host, "/_matrix/client/versions", spoof ? { headers: { "X-Forwarded-For": spoof } } : {}), i), (o: Obs) => {
      const r = reachedOnce(o);
      const xff = headerValues(r.rawHeaders, "x-forwarded-for");
      ensure(xff.length === 1 && xff[0] === "127.0.0.1", `upstream X-Forwarded-For ${JSON.stringify(xff)}, want ["127.0.0.1"]`);
    });
  }
  for (const spoof of [undefined, "http"]) {
    add("fwd-proto", spoof ? "X-Forwarded-Proto sent by the client is replaced" : "X-Forwarded-Proto", (env) => exchange(env, https(s.host, "/_matrix/client/versions", spoof ? { headers: { "X-Forwarded-Proto": spoof } } : {}), i), (o: Obs) => {
      const r = reachedOnce(o);
      const xfp = headerValues(r.rawHeaders, "x-forwarded-proto");
      ensure(xfp.length === 1 && xfp[0] === "https", `upstream X-Forwarded-Proto ${JSON.stringify(xfp)}, want ["https"]`);
    });
  }

  for (const method of ["PUT", "DELETE", "OPTIONS", "PATCH"]) {
    add("methods", `${method} is proxied`, (env) => exchange(env, https(s.host, "/_matrix/client/v3/rooms/%21r%3Ax/send/m.room.message/t1", { method, headers: { Origin: "https://app.element.io", "Access-Control-Request-Method": "PUT" } }), i), (o: Obs) => {
      statusIn(o, [200]);
      const r = reachedOnce(o);
      ensure(r.method === method, `upstream got method ${r.method}`);
    });
  }

  // 3. raw paths
  for (const target of RAW_TARGETS) {
    add("raw-path", `raw ${target}`, (env) => exchange(env, https(s.host, target), i), (o: Obs) => {
      statusIn(o, [200]);
      const r = reachedOnce(o);
      ensure(r.url === target, `upstream got ${JSON.stringify(r.url)}\n              want ${JSON.stringify(target)}`);
    });
  }

  // 4. upload limit (upload-probes.ts)
  out.push(...uploadProbes(lb, s));

  // 5. plain HTTP redirects
  const target = RAW_TARGETS[0]!;
  if (s.listen.http !== null) {
    for (const name of new Set([s.serverName, s.host])) {
      const want = `https://${name}${s.listen.https === 443 ? "" : `:${s.listen.https}`}${target}`;
      add("redirect", `http://${name} → https`, (env) => exchange(env, { scheme: "http", port: s.listen.http!, sni: name, hostHeader: `${name}:${s.listen.http}`, target }, i, { settle: true }), (o: Obs) => {
        statusIn(o, [301, 308]);
        notReached(o);
        ensure(o.headers.location === want, `Location ${JSON.stringify(o.headers.location)}, want ${JSON.stringify(want)}`);
      });
    }
  } else {
    const other = lb.plan.sites.find((x) => x.listen.http !== null)?.listen.http;
    if (other) {
      add("redirect", `http: false: http://${s.host} is not redirected`, (env) => exchange(env, { scheme: "http", port: other, sni: s.host, hostHeader: `${s.host}:${other}`, target }, i, { settle: true }), (o: Obs) => {
        notReached(o);
        ensure(!String(o.headers.location ?? "").startsWith(`https://${s.host}`), `redirected to ${o.headers.location} although http: false`);
      });
    }
  }

  // 5b. the client document's redirect carries CORS too (a browser follows it cross-origin)
  if (s.listen.http !== null && s.wellKnown.some((d) => d.name === "client")) {
    add("wk-cors", "CORS on the http:// redirect of /.well-known/matrix/client", (env) => exchange(env, { scheme: "http", port: s.listen.http!, sni: s.serverName, hostHeader: `${s.serverName}:${s.listen.http}`, target: "/.well-known/matrix/client" }, i), (o: Obs) => {
      statusIn(o, [301, 308]);
      const acao = headerValues(o.rawHeaders, "access-control-allow-origin");
      ensure(acao.length === 1 && acao[0] === "*", `redirect's Access-Control-Allow-Origin: ${JSON.stringify(acao)} (want exactly ["*"])`);
    });
  }

  // 6. federation listener
  if (s.federationListener !== null) {
    for (const path of ["/_matrix/federation/v1/version", "/_matrix/key/v2/server"]) {
      add("federation", `GET ${s.host}:federation ${path}`, (env) => exchange(env, { ...https(s.host, path), port: s.federationListener!, hostHeader: `${s.host}:${s.federationListener}` }, i), (o: Obs) => {
        statusIn(o, [200]);
        const r = reachedOnce(o);
        ensure(r.url === path && hostnameOf(r.headers.host ?? "") === s.host, `upstream got ${r.url} for Host ${r.headers.host}`);
      });
    }
  }

  // 7. upstream timeout
  const limitMs = s.timeout.seconds * 1000;
  add("timeout", `answer after ${limitMs / 5} ms passes`, (env) => exchange(env, https(s.host, "/_matrix/client/v3/sync?timeout=0", { headers: { "x-stub-delay-ms": String(limitMs / 5) } }), i), (o: Obs) => {
    statusIn(o, [200]);
    reachedOnce(o);
  });
  add("timeout", `no answer within ${s.timeout.text} → 502/504`, (env) => exchange(env, https(s.host, "/_matrix/client/v3/sync?timeout=30000", { headers: { "x-stub-delay-ms": String(limitMs + 4000) }, timeoutMs: limitMs + 8000 }), i), (o: Obs) => {
    statusIn(o, [502, 504]);
    reachedOnce(o);
    ensure(o.ms >= limitMs - 250 && o.ms <= limitMs + 3000, `answered after ${Math.round(o.ms)} ms (want ${limitMs} ms, −250/+3000)`);
  });

  // 8. the upstream is dialled the way the site file says
  add("upstream-kind", `dialled as ${lb.original.sites[i]!.upstream.kind === "unix" ? "unix socket" : (lb.original.sites[i]!.upstream as { url: string }).url}`, (env) => exchange(env, https(s.host, "/_matrix/client/versions"), i), (o: Obs) => {
    const ep = lb.upstreamOf(i);
    const r = reachedOnce(o);
    ensure(r.via === ep.via, `upstream reached over ${r.via}, want ${ep.via}`);
    if (ep.url.startsWith("http://[")) ensure(ep.connections > 0, "nothing connected to the [::1] address");
    if (ep.url.startsWith("https:")) ensure(ep.connections > 0 && ep.sniSeen.length > 0 && ep.sniSeen.every((n) => n === "localhost"), `SNI sent to the HTTPS upstream: ${JSON.stringify(ep.sniSeen)} over ${ep.connections} connections (want "localhost", the upstream's host, on each)`);
  });
  if (s.upstream.kind === "tcp" && s.upstream.scheme === "https") {
    add("upstream-kind", "HTTPS upstream with an untrusted certificate → 502, nothing forwarded", async (env) => {
      const ep = lb.upstreamOf(i);
      ep.presentUntrusted!(true);
      try {
        return await exchange(env, https(s.host, "/_matrix/client/versions"), i, { settle: true });
      } finally {
        ep.presentUntrusted!(false);
      }
    }, (o: Obs) => {
      ensure(o.status !== null && o.status >= 500, `expected a 5xx: ${summary(o)}`);
      notReached(o);
    }, true);
  }
  return out;
}
