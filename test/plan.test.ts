// The Plan's decisions (defaults and derived values of ../shared/DESIGN.md), checked directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSite, formatDiagnostic } from "../src/index.js";
import type { Plan } from "../src/index.js";

function plan(yaml: string): Plan {
  const r = compileSite("site.yaml", yaml);
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  return r.plan!;
}

function errors(yaml: string): string[] {
  return compileSite("site.yaml", yaml).diagnostics.map(formatDiagnostic);
}

const site = (extra = "", hs = "") => `version: 1
sites:
  - server_name: example.com
    homeserver:
      host: matrix.example.com
      upstream: http://127.0.0.1:6167
${hs}${extra}`;

test("defaults: base_url on 443, m.server with port 443, 50M, 600s, ACME, redirect on 80", () => {
  const s = plan(site()).sites[0]!;
  assert.deepEqual(s.wellKnown.map((d) => d.json), [{ "m.homeserver": { base_url: "https://matrix.example.com" } }, { "m.server": "matrix.example.com:443" }]);
  assert.equal(s.maxUpload.bytes, 50 * 1024 * 1024);
  assert.equal(s.timeout.seconds, 600);
  assert.deepEqual(s.tls, { kind: "acme" });
  assert.deepEqual(s.listen, { https: 443, http: 80 });
  assert.equal(s.federationListener, null);
});

test("base_url carries a non-443 HTTPS port; m.server keeps federation.port or 443", () => {
  const s = plan(site("    listen: { https: 8443 }\n")).sites[0]!;
  assert.deepEqual(s.wellKnown[0]!.json, { "m.homeserver": { base_url: "https://matrix.example.com:8443" } });
  assert.equal(s.federationTarget, "matrix.example.com:443");
  const f = plan(site("    listen: { https: 8443 }\n    federation: { port: 8448 }\n")).sites[0]!;
  assert.equal(f.federationTarget, "matrix.example.com:8448");
  assert.equal(f.federationListener, 8448);
  const same = plan(site("    federation: { port: 443 }\n")).sites[0]!;
  assert.equal(same.federationListener, null, "federation on the HTTPS port needs no second listener");
});

test("extra client keys go to the top level verbatim, after m.homeserver", () => {
  const s = plan(site("    well_known:\n      client:\n        m.identity_server: { base_url: https://id.example.com }\n        org.example.x: [1, {a: b}]\n")).sites[0]!;
  assert.deepEqual(Object.keys(s.wellKnown[0]!.json as object), ["m.homeserver", "m.identity_server", "org.example.x"]);
  assert.deepEqual((s.wellKnown[0]!.json as Record<string, unknown>)["org.example.x"], [1, { a: "b" }]);
});

test("false disables a document; support only when configured", () => {
  const s = plan(site("    well_known: { client: false, server: false }\n")).sites[0]!;
  assert.deepEqual(s.wellKnown, []);
  assert.equal(s.federationTarget, null);
  const sup = plan(site("    well_known:\n      support: { support_page: https://example.com/help }\n")).sites[0]!;
  assert.deepEqual(sup.wellKnown.map((d) => d.name), ["client", "server", "support"]);
});

test("defaults merge under every site; a site's tls replaces the default", () => {
  const p = plan(`version: 1
defaults:
  homeserver: { upstream: http://127.0.0.1:7000, max_upload: 10M }
  tls: { acme: { email: a@example.com } }
sites:
  - server_name: a.example
    homeserver: { host: m.a.example }
  - server_name: b.example
    homeserver: { host: m.b.example, max_upload: 1G }
    tls: { cert: /c.pem, key: /k.pem }
`);
  assert.deepEqual(p.sites.map((s) => [s.upstream.kind === "tcp" && s.upstream.url, s.maxUpload.bytes, s.tls.kind]), [
    ["http://127.0.0.1:7000", 10 * 1024 ** 2, "acme"],
    ["http://127.0.0.1:7000", 1024 ** 3, "files"],
  ]);
});

test("hostnames are lower-cased and IDNs written as xn--", () => {
  const s = plan(site().replace("example.com\n    homeserver", "Bücher.Example\n    homeserver")).sites[0]!;
  assert.equal(s.serverName, "xn--bcher-kva.example");
});

test("upstreams: IPv6 in brackets, https, unix sockets", () => {
  const up = (u: string) => plan(site().replace("http://127.0.0.1:6167", u)).sites[0]!.upstream;
  assert.deepEqual(up("http://[::1]:8008"), { kind: "tcp", scheme: "http", host: "::1", port: 8008, authority: "[::1]:8008", url: "http://[::1]:8008", hostIsIp: true });
  assert.equal((up("https://hs.internal") as { url: string }).url, "https://hs.internal:443");
  assert.deepEqual(compileSite("s", site().replace("http://127.0.0.1:6167", "unix:/run/a.sock"), ["nginx"]).plan!.sites[0]!.upstream, { kind: "unix", path: "/run/a.sock" });
});

test("the same input always gives the same hash; a different input another", () => {
  assert.equal(plan(site()).hash, plan(site()).hash);
  assert.notEqual(plan(site()).hash, plan(site("    listen: { https: 8443 }\n")).hash);
});

test("errors: all at once, positioned, sorted", () => {
  const e = errors(`version: 1
sites:
  - server_name: example.com
    homeserver:
      host: matrix.example.com
      upstream: http://[zz]:1
    listen: { https: 80, http: 80 }
  - server_name: example.com
    homeserver: { host: other.example.com, upstream: "http://127.0.0.1:99999" }
`);
  assert.deepEqual(e, [
    'site.yaml:6:17 sites[0].homeserver.upstream: "http://[zz]:1" is not valid (expected http://HOST:PORT, https://HOST:PORT, http://[IPv6]:PORT or unix:/ABSOLUTE/PATH.sock, with no path (a socket path cannot hold : | $ { } or control characters))',
  ]);
  const sem = errors(`version: 1
sites:
  - server_name: example.com
    homeserver: { host: matrix.example.com, upstream: "http://[fe80::1::2]:1" }
    listen: { https: 80, http: 80 }
  - server_name: example.com
    homeserver: { host: other.example.com, upstream: "http://127.0.0.1:99999" }
`);
  assert.equal(sem.length, 4, sem.join("\n"));
  assert.match(sem[0]!, /^site\.yaml:4:55 sites\[0\]\.homeserver\.upstream: "http:\/\/\[fe80::1::2\]:1" has \[fe80::1::2\], which is not an IPv6 address/);
  assert.match(sem[1]!, /^site\.yaml:5:32 sites\[0\]\.listen\.http: 80 is also listen\.https/);
  assert.match(sem[2]!, /^site\.yaml:6:18 sites\[1\]\.server_name: "example\.com" is already used at sites\[0\]\.server_name/);
  assert.match(sem[3]!, /^site\.yaml:7:54 sites\[1\]\.homeserver\.upstream: "http:\/\/127\.0\.0\.1:99999" has port 99999 \(expected 1 to 65535\)/);
});

test("well_known.server must name a real port", () => {
  assert.deepEqual(errors(site("    well_known: { server: \"matrix.example.com:99999\" }\n")), [
    'site.yaml:7:27 sites[0].well_known.server: "matrix.example.com:99999" has port 99999 (expected 1 to 65535)',
  ]);
  assert.match(errors(site("    well_known: { server: \"matrix.example.com:0\" }\n"))[0]!, /has port 0 \(expected 1 to 65535\)/);
});
