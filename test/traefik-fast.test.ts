// The Traefik dynamic file is written as text, entry by entry (src/backends/traefik/index.ts), for speed
// at 10,000 sites. It used to be an object tree written by toYaml; that tree is kept here as the
// reference, and the two must give the same bytes: on the fixtures, on files whose readable entry
// keys would repeat (those get position ids: siteKeys), and on random files. No key may repeat.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDiagnostic, loadSite, planSite, renderBackend, validateSite } from "../src/index.js";
import type { Plan, SitePlan, TraefikOptions } from "../src/index.js";
import { CORS_HEADERS, hostNames } from "../src/backends/_shared.js";
import { toYaml } from "../src/backends/traefik/_yaml-out.js";
import { options, siteKeys, wellKnownMode } from "../src/backends/traefik/_render.js";
import { entryPoints, type EntryPoints } from "../src/backends/traefik/_static.js";
import { fixtures } from "./_fixtures.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.PROPERTY_SEED ?? 0x7466);

/** compare renders `text` and checks the dynamic file's YAML against the reference; false when the file is invalid. */
function compare(text: string, label: string): boolean {
  const loaded = loadSite("site.yaml", text);
  const { input, diagnostics } = validateSite(loaded);
  if (!input) return false;
  const plan = planSite(input, "site.yaml");
  const contents = renderBackend(plan, "traefik").find((f) => f.path === "traefik/mxproxy.yml")!.contents;
  const at = contents.indexOf("\nhttp:\n");
  assert.ok(at > 0, `${label}: no http: line`);
  assert.ok(contents.slice(0, at).split("\n").every((l) => l.startsWith("#")), `${label}: only comments before http:\n${diagnostics.map(formatDiagnostic).join("\n")}`);
  assert.equal(contents.slice(at + 1), `${reference(plan)}\n`, `${label}: differs from the object tree written by toYaml\n${text}`);
  return true;
}

for (const fx of fixtures()) {
  test(`fixture ${fx.name}: same YAML as the object tree`, () => {
    assert.ok(compare(fx.text, fx.name), "fixture is invalid");
  });
}

// Ids that are another id + "-…" (x-com, x-com-redirect), two names of one site with one slug
// (1a.b-c.com, 1a-b.c.com), ids given twice (a-b-test-0), keys that need quotes (a digit first).
const REPEATS = `version: 1
backends:
  traefik:
    well_known: static
    static_url: http://127.0.0.1:8080/
sites:
  - server_name: x.com
    homeserver: { host: m.x.com, upstream: "http://127.0.0.1:6167" }
    listen: { http: 80, https: 8443 }
    backends: { traefik: { well_known: homeserver } }
  - server_name: x.com.redirect
    homeserver: { host: m.x.com.redirect, upstream: "http://127.0.0.1:6167" }
  - server_name: 1a.b-c.com
    homeserver: { host: 1a-b.c.com, upstream: "http://127.0.0.1:6167" }
    federation: { port: 8448 }
  - server_name: a.b.test
    homeserver: { host: m.a.b.test, upstream: "http://127.0.0.1:6167" }
    listen: { http: 80 }
  - server_name: a-b.test
    homeserver: { host: m.a-b.test, upstream: "http://127.0.0.1:6167" }
  - server_name: a-b.test-0
    homeserver: { host: a-b.test-0, upstream: "https://127.0.0.1:6167/" }
    tls: { cert: "/etc/ssl/\\"q\\" \\\\ \\u00e9 \\U0001F600.pem", key: /k.pem }
`;

test("names whose keys would meet: every site named by its position, no key repeats", () => {
  const before = repeated;
  assert.ok(compare(REPEATS, "repeats"), "the file is invalid");
  assert.equal(repeated, before, "a key was written twice: a site lost entries");
  const text = renderText(REPEATS);
  for (let i = 0; i < 6; i++) assert.match(text, new RegExp(`^    site-${i}-homeserver:$`, "m"));
  assert.match(text, /^    site-2-well-known-server:\n      rule: "Host\(`1a\.b-c\.com`\)/m);
  assert.match(text, /^    site-2-well-known-host:\n      rule: "Host\(`1a-b\.c\.com`\)/m);
  assert.match(text, /^    site-0-redirect-cors:$/m);
  assert.doesNotMatch(text, /x-com/, "no readable ids once one pair could meet");
});

test("names that cannot meet keep readable ids", () => {
  const text = renderText(REPEATS.replace(/  - server_name: x\.com\.redirect\n.*\n/, "").replace(/  - server_name: 1a\.b-c\.com\n(.*\n){2}/, "").replace(/  - server_name: a-b\.test-0\n(.*\n){3}/, ""));
  assert.match(text, /^    x-com-redirect-cors:$/m);
  assert.match(text, /^    a-b-test-1-homeserver:$/m, "same slug twice: the site's index");
  assert.match(text, /^    a-b-test-0-homeserver:$/m);
});

// Enough sites that each section is joined in several chunks (MappingText joins every 8,192 pieces).
test("600 sites: same YAML as the object tree", () => {
  const sites = Array.from({ length: 600 }, (_, i) => ({
    server_name: i % 7 === 0 ? `${i}x.example.com` : `s${i}.example.com`, // a digit first: quoted keys
    homeserver: { host: i % 3 === 0 ? `s${i}.example.com` : `m${i}.example.com`, upstream: `http://127.0.0.1:${6000 + i}/` },
    ...(i % 5 === 0 ? { listen: { https: 8443, http: false } } : {}),
    ...(i % 4 === 0 ? { federation: { port: 8448 } } : {}),
    ...(i % 6 === 0 ? { tls: { cert: `/etc/ssl/${i}.pem`, key: `/etc/ssl/${i}.key` } } : {}),
    ...(i % 2 === 0 ? { backends: { traefik: { well_known: "static", static_url: "http://127.0.0.1:8080" } } } : {}),
  }));
  assert.ok(compare(JSON.stringify({ version: 1, sites }), "600 sites"), "the file is invalid");
});

// --- random files ---

// Few labels, so that ids meet (x.com, x.com.redirect); a digit first makes a quoted key.
const label = fc.constantFrom("a", "b", "x", "1a", "a-b", "b-c", "0", "redirect", "cors", "prefix", "well-known", "to-https", "homeserver", "xn--bcher-kva");
const name = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom("com", "test", "redirect", "test-0")).map(([l, tld]) => [...l, tld].join("."));
const epName = (...names: string[]) => fc.constantFrom(...names);
const path = fc.oneof(
  fc.constantFrom("/etc/ssl/cert.pem", "/etc/ssl/it's \"here\".pem", "/etc/ssl/back\\slash.pem", "/etc/ssl/é/ü.pem", "/tmp/😀.pem"),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 }).filter((s) => !/[${}]/.test(s)).map((s) => `/x/${s}`),
);
const site = fc.record(
  {
    sameHost: fc.boolean(),
    upstream: fc.constantFrom("http://127.0.0.1:6167", "https://127.0.0.1:8448/", "http://[::1]:8008", "http://localhost", "unix:/run/hs.sock"),
    maxUpload: fc.constantFrom("1K", "50M", "2G", 12345),
    timeout: fc.constantFrom("30s", "10m", "24h", 1),
    fed: fc.constantFrom(443, 8448),
    https: fc.constantFrom(443, 8443),
    http: fc.constantFrom(80, 8080, false),
    tls: fc.oneof(fc.constantFrom("acme", "acme-email", "none"), fc.tuple(path, path)),
    wellKnown: fc.constantFrom("homeserver", "static"),
    staticUrl: fc.constantFrom("http://127.0.0.1:8080", "https://files.test:8443/"),
    resolver: epName("le", "Other_2"),
    // Ids that meet: the previous site's name + ".redirect" (its -cors is the other's -redirect-cors);
    // a host that is the server name with dots and dashes swapped (one slug).
    derived: fc.boolean(),
    host: fc.constantFrom("own", "swapped"),
  },
  { requiredKeys: ["sameHost", "upstream", "tls"] },
);
const file = fc.record(
  {
    sites: fc.array(fc.tuple(name, name, site), { minLength: 1, maxLength: 12 }),
    traefik: fc.record({ entry_point: epName("websecure", "9-lives"), http_entry_point: epName("web", "Web_1"), federation_entry_point: epName("federation", "fed-x"), cert_resolver: epName("le", "a") }, { requiredKeys: [] }),
  },
  { requiredKeys: ["sites"] },
);

type FileChoices = typeof file extends fc.Arbitrary<infer T> ? T : never;

function siteFile(r: FileChoices): string {
  const servers: string[] = [];
  const sites = r.sites.map(([own, host, c], i) => {
    const server = c.derived && i > 0 ? `${servers[i - 1]}.redirect` : own;
    servers.push(server);
    const swapped = server.replace(/[.-]/g, (ch) => (ch === "." ? "-" : "."));
    const s: Record<string, any> = { server_name: server, homeserver: { host: c.sameHost ? server : c.host === "swapped" ? swapped : `h${i}.${host}`, upstream: c.upstream } };
    if (c.maxUpload !== undefined) s.homeserver.max_upload = c.maxUpload;
    if (c.timeout !== undefined) s.homeserver.timeout = c.timeout;
    if (c.fed !== undefined) s.federation = { port: c.fed };
    if (c.https !== undefined || c.http !== undefined) s.listen = { ...(c.https !== undefined ? { https: c.https } : {}), ...(c.http !== undefined ? { http: c.http } : {}) };
    if (c.tls === "acme") s.tls = { acme: {} };
    else if (c.tls === "acme-email") s.tls = { acme: { email: `admin${i}@example.com` } };
    else if (Array.isArray(c.tls)) s.tls = { cert: c.tls[0], key: c.tls[1] };
    const t: Record<string, unknown> = {};
    if (c.wellKnown) t.well_known = c.wellKnown;
    if (c.wellKnown === "static" || c.staticUrl) t.static_url = c.staticUrl ?? "http://127.0.0.1:9";
    if (c.resolver) t.cert_resolver = c.resolver;
    if (c.upstream.startsWith("unix:")) t.upstream = "http://127.0.0.1:6167";
    if (Object.keys(t).length > 0) s.backends = { traefik: t };
    return s;
  });
  const out: Record<string, unknown> = { version: 1, sites };
  if (r.traefik && Object.keys(r.traefik).length > 0) out.backends = { traefik: r.traefik };
  return JSON.stringify(out); // JSON is YAML
}

test(`random files (${RUNS}, seed ${SEED}): same YAML as the object tree`, () => {
  let valid = 0;
  const before = repeated;
  fc.assert(
    fc.property(file, (r) => {
      if (compare(siteFile(r), "random")) valid++;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  assert.ok(valid >= RUNS / 2, `only ${valid} of ${RUNS} random files were valid`);
  assert.equal(repeated, before, "a key was written twice: a site lost entries");
  assert.ok(positional >= 5, `only ${positional} files needed position ids: the generator should make more`);
});

// --- the reference: the object tree and toYaml, as src/backends/traefik/index.ts had them ---

function reference(plan: Plan): string {
  const eps = entryPoints(plan);
  const keys = siteKeys(plan);
  if (keys.length > 0 && keys.every((k, i) => k.id === `site-${i}`)) positional++;
  const http = { routers: {} as Record<string, unknown>, middlewares: {} as Record<string, unknown>, services: {} as Record<string, unknown>, serversTransports: {} as Record<string, unknown> };
  const certificates: unknown[] = [];
  plan.sites.forEach((site, i) => {
    addSite(http, site, keys[i]!.id, keys[i]!.slugs, options(plan, site), eps);
    if (site.tls.kind === "files") certificates.push({ certFile: site.tls.cert, keyFile: site.tls.key });
  });
  const dynamic: Record<string, unknown> = { http };
  if (certificates.length > 0) dynamic.tls = { certificates };
  return toYaml(dynamic);
}

type Http = { routers: Record<string, unknown>; middlewares: Record<string, unknown>; services: Record<string, unknown>; serversTransports: Record<string, unknown> };

/** Keys set again, over all reference runs (must stay 0), and files that needed position ids. */
let repeated = 0;
let positional = 0;
const put = (section: Record<string, unknown>, key: string, value: unknown) => {
  if (Object.hasOwn(section, key)) repeated++;
  section[key] = value;
};

function addSite(http: Http, site: SitePlan, id: string, slugs: string[], opts: TraefikOptions, eps: EntryPoints): void {
  const tls = site.tls.kind === "acme" ? { certResolver: opts.cert_resolver ?? "letsencrypt" } : {};
  const https = [eps.https(site.listen.https)];
  const hostRule = (name: string) => `Host(\`${name}\`)`;
  const wkRule = (name: string) => `${hostRule(name)} && PathPrefix(\`/.well-known/matrix/\`)`;
  const upstream = opts.upstream ?? (site.upstream.kind === "tcp" ? site.upstream.url : "");

  put(http.serversTransports, `${id}-transport`, { forwardingTimeouts: { responseHeaderTimeout: `${site.timeout.seconds}s` } });
  put(http.services, `${id}-homeserver`, { loadBalancer: { servers: [{ url: upstream.replace(/\/$/, "") }], passHostHeader: true, serversTransport: `${id}-transport` } });
  put(http.middlewares, `${id}-body-limit`, { buffering: { maxRequestBodyBytes: site.maxUpload.bytes } });
  put(http.middlewares, `${id}-cors`, { headers: { customResponseHeaders: Object.fromEntries([["Content-Type", "application/json"], ...CORS_HEADERS]) } });

  const static_ = wellKnownMode(opts) === "static";
  if (static_) {
    put(http.services, `${id}-well-known`, { loadBalancer: { servers: [{ url: opts.static_url!.replace(/\/$/, "") }], passHostHeader: false } });
  }
  for (const [j, name] of hostNames(site).entries()) {
    const middlewares = [`${id}-cors`];
    if (static_) {
      put(http.middlewares, `${id}-prefix-${slugs[j]}`, { addPrefix: { prefix: `/${name}` } });
      middlewares.unshift(`${id}-prefix-${slugs[j]}`);
    }
    const entry = name === site.host && site.federationListener ? [...https, eps.federation(site.federationListener)] : https;
    put(http.routers, `${id}-well-known-${slugs[j]}`, { rule: wkRule(name), entryPoints: entry, middlewares, service: static_ ? `${id}-well-known` : `${id}-homeserver`, tls });
  }
  const entry = site.federationListener ? [...https, eps.federation(site.federationListener)] : https;
  put(http.routers, `${id}-homeserver`, { rule: hostRule(site.host), entryPoints: entry, middlewares: [`${id}-body-limit`], service: `${id}-homeserver`, tls });
  if (site.listen.http !== null) {
    const redirect: Record<string, unknown> = { scheme: "https", permanent: true };
    if (site.listen.https !== 443) redirect.port = String(site.listen.https);
    put(http.middlewares, `${id}-to-https`, { redirectScheme: redirect });
    put(http.middlewares, `${id}-redirect-cors`, { headers: { customResponseHeaders: { "Access-Control-Allow-Origin": "*" } } });
    put(http.routers, `${id}-to-https`, { rule: hostNames(site).map(hostRule).join(" || "), entryPoints: [eps.http(site.listen.http)], middlewares: [`${id}-redirect-cors`, `${id}-to-https`], service: "noop@internal" });
  }
}

function renderText(text: string): string {
  const { input, diagnostics } = validateSite(loadSite("site.yaml", text));
  assert.ok(input, diagnostics.map(formatDiagnostic).join("\n"));
  return renderBackend(planSite(input, "site.yaml"), "traefik").find((f) => f.path === "traefik/mxproxy.yml")!.contents;
}
