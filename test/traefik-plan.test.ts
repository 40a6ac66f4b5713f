// Traefik cannot run here: its output is checked with the Traefik checker (schema + cross-file
// assertions) and then asked, through a model of Traefik's routing (test/probes/traefik-model.ts),
// the questions the live probes ask nginx, Apache and Caddy — which router, middlewares and
// service a request for each name, path and port meets — with the answers compared to the Plan.
// Results go to .tmp/traefik-results.json for the README's behaviour table (column "Traefik").
import { after, describe, test } from "node:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { compileSite } from "../src/index.js";
import type { Plan, RenderedFile, SitePlan } from "../src/index.js";
import { fixtures, ROOT } from "./_fixtures.ts";
import { checkTraefik } from "./harness/traefik-check.ts";
import { TraefikModel } from "./probes/traefik-model.ts";
import { RAW_TARGETS } from "./probes/plan-probes.ts";
import type { ProbeResult } from "./probes/run.ts";

const results: ProbeResult[] = [];
after(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const file = { suite: "traefik", fixtures: fixtures().map((f) => f.name), results };
  writeFileSync(join(ROOT, ".tmp", "traefik-results.json"), JSON.stringify(file, null, 1) + "\n");
});

/** Thrown by a check to state that Traefik does this differently, and why. */
class Difference extends Error {}
type Check = { behaviour: string; name: string; run(): void };
const ok = (cond: unknown, message: string): void => {
  if (!cond) throw new Error(message);
};

for (const fx of fixtures()) {
  describe(`${fx.name} × traefik`, () => {
    const compiled = compileSite("site.yaml", fx.text);
    const plan = compiled.plan!;
    const files = compiled.files ?? [];
    const dynText = files.find((f) => f.path === "traefik/mxproxy.yml")?.contents ?? "";
    const staText = files.find((f) => f.path === "traefik/static/traefik.yml")?.contents ?? "";
    const checks: Check[] = [
      {
        behaviour: "syntax",
        name: "checkTraefik (vendored schema + cross-file assertions)",
        run: () => {
          const problems = checkTraefik(dynText, staText);
          ok(problems.length === 0, problems.join("\n"));
        },
      },
    ];
    if (dynText && staText) {
      const model = new TraefikModel(parseYaml(dynText), parseYaml(staText));
      for (const s of plan.sites) checks.push(...siteChecks(plan, s, model, files));
      checks.push(...unknownHostChecks(plan, model));
    }
    for (const c of checks) {
      test(`${c.behaviour}: ${c.name}`, (t) => {
        const base = { fixture: fx.name, backend: "traefik" as const, behaviour: c.behaviour, probe: c.name, ms: 0 };
        try {
          c.run();
          results.push({ ...base, outcome: "pass" });
        } catch (e) {
          if (e instanceof Difference) {
            results.push({ ...base, outcome: "difference", message: e.message });
            t.diagnostic(`expected difference: ${e.message}`);
            return;
          }
          results.push({ ...base, outcome: "fail", message: (e as Error).message });
          throw e;
        }
      });
    }
  });
}

// --- the questions, per site ---

function siteChecks(plan: Plan, s: SitePlan, model: TraefikModel, files: RenderedFile[]): Check[] {
  const opts = { ...plan.backends.traefik, ...s.backends.traefik };
  const staticMode = (opts.well_known ?? (opts.static_url ? "static" : "homeserver")) === "static";
  const homeserverMode = `the documents come from the homeserver (backends.traefik.well_known: homeserver): Traefik cannot return a static body (traefik/traefik#8391)`;
  const https = (host: string, path: string, method = "GET") => model.route({ port: s.listen.https, tls: true, host, path, method });
  const wantUpstream = s.upstream.kind === "tcp" ? s.upstream.url : opts.upstream;
  const out: Check[] = [];
  const add = (behaviour: string, name: string, run: () => void) => out.push({ behaviour, name: `${s.serverName}: ${name}`, run });
  const toHomeserver = (r: ReturnType<typeof https>, what: string) => {
    ok(r, `${what}: no router matches (Traefik answers 404)`);
    const url = r!.service?.loadBalancer?.servers?.[0]?.url;
    ok(url === wantUpstream, `${what}: routed to ${r!.serviceName} (${url}), want the homeserver at ${wantUpstream}`);
    return r!;
  };

  ok(model.entryPointFor(s.listen.https), `no entry point on :${s.listen.https}`);
  for (const doc of s.wellKnown) {
    add("wk-body", `${doc.path} served byte for byte`, () => {
      const r = https(s.serverName, doc.path);
      ok(r, `no router for ${s.serverName}${doc.path}`);
      if (!staticMode) throw new Difference(homeserverMode);
      ok(r!.service?.loadBalancer?.servers?.[0]?.url === String(opts.static_url).replace(/\/$/, ""), `routed to ${r!.serviceName}, want the static server ${opts.static_url}`);
      const file = files.find((f) => f.path === `well-known${r!.upstreamPath}`);
      ok(file?.contents === doc.body, `the static server gets ${r!.upstreamPath}, which is ${file ? "not the Plan's bytes" : "not a file under out/well-known"}`);
    });
    add("wk-type", `${doc.path}: Content-Type application/json`, () => {
      const h = responseHeaders(https(s.serverName, doc.path));
      ok(h["Content-Type"] === "application/json", `customResponseHeaders Content-Type: ${h["Content-Type"]}`);
    });
    add("wk-cors", `${doc.path}: CORS`, () => {
      const h = responseHeaders(https(s.serverName, doc.path));
      ok(h["Access-Control-Allow-Origin"] === "*" && /GET/.test(h["Access-Control-Allow-Methods"] ?? "") && /Authorization/.test(h["Access-Control-Allow-Headers"] ?? ""), `CORS headers: ${JSON.stringify(h)}`);
    });
  }
  if (s.listen.http !== null && s.wellKnown.some((d) => d.name === "client")) {
    add("wk-cors", "CORS on the http:// redirect of /.well-known/matrix/client", () => {
      const r = model.route({ port: s.listen.http!, tls: false, host: s.serverName, path: "/.well-known/matrix/client" });
      const h = responseHeaders(r);
      ok(h["Access-Control-Allow-Origin"] === "*", `the redirect router ${r?.routerName} sets no Access-Control-Allow-Origin`);
    });
  }
  const unserved = ["client", "server", "support"].filter((n) => !s.wellKnown.some((d) => d.name === n)).map((n) => [s.serverName, `/.well-known/matrix/${n}`]);
  unserved.push([s.serverName, "/.well-known/matrix/unknown-document"]);
  if (!s.sameHost) for (const n of ["client", "server", "support", "unknown-document"]) unserved.push([s.host, `/.well-known/matrix/${n}`]);
  for (const [name, path] of unserved) {
    add("wk-unserved", `https://${name}${path} not served`, () => {
      const r = https(name!, path!);
      if (!r) return; // no router: 404
      if (!staticMode) throw new Difference(`${homeserverMode}; an unserved document is whatever the homeserver answers`);
      ok(!files.some((f) => f.path === `well-known${r.upstreamPath}`), `the static server would serve ${r.upstreamPath}`);
      ok(r.service?.loadBalancer?.servers?.[0]?.url !== wantUpstream, "routed to the homeserver");
    });
  }
  if (!s.sameHost) add("name-only", "other paths on the server name: no router (404)", () => ok(https(s.serverName, "/_matrix/client/versions") === null, "a router matches"));

  add("fwd-host", "Host passed to the homeserver", () => ok(toHomeserver(https(s.host, "/_matrix/client/versions"), "GET /_matrix/client/versions").service!.loadBalancer.passHostHeader !== false, "passHostHeader is false"));
  for (const behaviour of ["fwd-xff", "fwd-proto"]) {
    add(behaviour, "client-sent X-Forwarded-* not trusted on the entry point", () => {
      const ep = model.entryPoints.get(model.entryPointFor(s.listen.https)!)!.def;
      ok(!ep.forwardedHeaders?.insecure && !(ep.forwardedHeaders?.trustedIPs ?? []).length, `entry point trusts forwarded headers: ${JSON.stringify(ep.forwardedHeaders)}`);
    });
  }
  add("methods", "PUT, DELETE, OPTIONS, PATCH routed to the homeserver", () => {
    for (const m of ["PUT", "DELETE", "OPTIONS", "PATCH"]) toHomeserver(https(s.host, "/_matrix/client/v3/x", m), m);
  });
  add("raw-path", "encoded characters allowed and paths not sanitised on the HTTPS and federation entry points", () => {
    for (const port of [s.listen.https, s.federationListener].filter((p): p is number => p !== null)) {
      const ep = model.entryPoints.get(model.entryPointFor(port)!)!.def;
      const enc = ep.http?.encodedCharacters ?? {};
      for (const k of ["allowEncodedSlash", "allowEncodedBackSlash", "allowEncodedSemicolon", "allowEncodedPercent", "allowEncodedQuestionMark", "allowEncodedHash"]) ok(enc[k] === true, `:${port} ${k} is not true`);
      ok(ep.http?.sanitizePath === false, `:${port} sanitizePath is not false`);
    }
    for (const target of RAW_TARGETS) toHomeserver(https(s.host, target), target);
  });
  const limit = (behaviour: string, name: string) =>
    add(behaviour, name, () => {
      const r = toHomeserver(https(s.host, "/_matrix/media/v3/upload", "POST"), "POST upload");
      const buffering = r.middlewares.find((m) => m.def?.buffering)?.def.buffering;
      ok(buffering?.maxRequestBodyBytes === s.maxUpload.bytes, `buffering.maxRequestBodyBytes ${buffering?.maxRequestBodyBytes}, want ${s.maxUpload.bytes} (${s.maxUpload.text})`);
    });
  limit("upload-under", "buffering middleware with maxRequestBodyBytes = max_upload");
  limit("upload-over", "buffering reads the whole body first: over max_upload → 413 before the homeserver");
  limit("upload-chunked", "buffering counts chunked bodies too");
  if (s.listen.http !== null) {
    add("redirect", "http:// on both names → https://, port kept", () => {
      for (const name of new Set([s.serverName, s.host])) {
        const r = model.route({ port: s.listen.http!, tls: false, host: name, path: RAW_TARGETS[0]! });
        const red = r?.middlewares.find((m) => m.def?.redirectScheme)?.def.redirectScheme;
        ok(red?.scheme === "https" && red.permanent === true, `${name}: no permanent redirectScheme to https (${r?.routerName})`);
        const want = s.listen.https === 443 ? undefined : String(s.listen.https);
        ok(red.port === want || (want === undefined && red.port === "443"), `${name}: redirect port ${red.port}, want ${want ?? "none"}`);
      }
    });
  } else {
    add("redirect", "http: false: no router on plain HTTP for these names", () => {
      for (const [, ep] of model.entryPoints) for (const name of [s.serverName, s.host]) ok(model.route({ port: ep.port, tls: false, host: name, path: "/" }) === null, `${name}:${ep.port} has a plain-HTTP router`);
    });
  }
  if (s.federationListener !== null) {
    add("federation", `entry point :${s.federationListener} routes ${s.host} to the homeserver`, () => {
      ok(model.entryPointFor(s.federationListener!), `no entry point on :${s.federationListener}`);
      for (const path of ["/_matrix/federation/v1/version", "/_matrix/key/v2/server"]) toHomeserver(model.route({ port: s.federationListener!, tls: true, host: s.host, path }), path);
    });
  }
  add("timeout", "responseHeaderTimeout = timeout", () => {
    const r = toHomeserver(https(s.host, "/_matrix/client/v3/sync"), "GET /sync");
    const transport = model.dynamic.http?.serversTransports?.[r.service!.loadBalancer.serversTransport];
    const got = seconds(transport?.forwardingTimeouts?.responseHeaderTimeout);
    ok(got === s.timeout.seconds, `responseHeaderTimeout ${transport?.forwardingTimeouts?.responseHeaderTimeout}, want ${s.timeout.seconds}s`);
  });
  add("upstream-kind", "server URL and TLS as the site file says", () => {
    toHomeserver(https(s.host, "/"), "GET /");
    if (s.upstream.kind === "unix") throw new Difference(`Traefik cannot dial a unix socket: it uses backends.traefik.upstream (${opts.upstream})`);
  });
  add("tls", "router TLS: cert resolver or the site's certificate files", () => {
    const r = toHomeserver(https(s.host, "/"), "GET /");
    if (s.tls.kind === "acme") {
      const resolver = opts.cert_resolver ?? "letsencrypt";
      ok(r.router.tls?.certResolver === resolver, `router tls ${JSON.stringify(r.router.tls)}, want certResolver ${resolver}`);
      ok(model.staticConf.certificatesResolvers?.[resolver]?.acme, `static configuration lacks certificatesResolvers.${resolver}`);
    } else {
      const { cert, key } = s.tls;
      const certs = (model.dynamic.tls?.certificates ?? []) as { certFile: string; keyFile: string }[];
      ok(certs.some((c) => c.certFile === cert && c.keyFile === key), `tls.certificates lacks ${cert} / ${key}`);
      ok(r.router.tls !== undefined, "router has no tls section (it would serve plain HTTP)");
    }
  });
  return out;
}

function unknownHostChecks(plan: Plan, model: TraefikModel): Check[] {
  return [
    {
      behaviour: "unknown-host",
      name: "unknown.invalid: no router on any entry point (404)",
      run: () => {
        for (const [, ep] of model.entryPoints) for (const tls of [true, false]) ok(model.route({ port: ep.port, tls, host: "unknown.invalid", path: "/_matrix/client/versions" }) === null, `a router matches unknown.invalid on :${ep.port}`);
      },
    },
  ].map((c) => ({ ...c, name: `${plan.sites.map((s) => s.serverName).join(", ")}: ${c.name}` }));
}

function responseHeaders(r: ReturnType<TraefikModel["route"]>): Record<string, string> {
  return Object.assign({}, ...(r?.middlewares ?? []).map((m) => m.def?.headers?.customResponseHeaders ?? {}));
}

/** A Traefik duration ("600s", "10m", "1h30m", or a number of seconds) in seconds. */
function seconds(v: unknown): number {
  if (typeof v === "number") return v;
  let total = 0;
  for (const m of String(v).matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "s"];
  return total;
}
