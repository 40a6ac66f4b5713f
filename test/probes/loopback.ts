// A fixture made runnable on loopback: the same site file with only what binds the real world
// replaced — listen/federation ports → free high ports, TLS → test certificates (files named
// like the fixture's own, spaces and quotes included), upstreams → recording stubs reached the
// way the fixture says (TCP, [::1], HTTPS, unix socket), timeout → a short one. Everything else
// (documents, limits, hosts, Traefik knobs) is kept, so the Plan the probes are derived from is
// the fixture's Plan with those values changed.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import { compileSite, formatDiagnostic, writeOutput } from "../../src/index.js";
import type { Plan, RenderedFile } from "../../src/index.js";
import { freePorts, makeTestPki, type TestPki } from "../harness/servers.ts";
import { startUpstreams, upstreamKey, type UpstreamEndpoint } from "./upstreams.ts";

/**
 * Upstream timeout of every loopback site: short, so the timeout probe stays quick, but every
 * proxied probe must also be answered within it, and under a full `npm test` on 2 cores (uploads,
 * other test files' servers) a stub's answer was measured to stall for more than 2 s.
 */
export const TIMEOUT_SECONDS = 5;
/** Where the system trust store is named in rendered configs (HTTPS upstreams). */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface Loopback {
  name: string;
  /** the fixture's own Plan (public ports, real upstreams) */
  original: Plan;
  /** the rewritten site file and what it compiles to */
  text: string;
  plan: Plan;
  files: RenderedFile[];
  /** public port of the fixture → loopback port (443 → 23817, …) */
  portMap: Map<number, number>;
  pki: TestPki;
  /** system store + the test CA: what "the machine trusts the homeserver's CA" means here */
  trustBundle: string;
  /** endpoint per site, by site index */
  upstreamOf(siteIndex: number): UpstreamEndpoint;
  upstreams: UpstreamEndpoint[];
  /** every hostname the site file serves */
  names: string[];
  /**
   * Loopback port for a public `name:port`: a port the fixture listens on maps to its loopback
   * port; 443 on a name whose site listens elsewhere maps to that site's HTTPS port (the
   * 443 → listen.https forward Matrix discovery needs, since it always asks port 443); else null.
   */
  connectPort(name: string, port: number): number | null;
  /** write the rendered files to a fresh folder (HTTPS upstreams: trust store → trustBundle) */
  writeOut(dir: string): void;
  close(): Promise<void>;
}

export async function makeLoopback(name: string, fixtureText: string, base: string): Promise<Loopback> {
  const original = compileOk(fixtureText, `${name} (as committed)`);
  const names = [...new Set(original.sites.flatMap((s) => [s.serverName, s.host]))];
  const pki = makeTestPki(join(base, "pki"), names);
  // HTTPS upstreams: a certificate for the upstream's own name only (a proxy that checks it
  // against the public host fails, as it would with a real homeserver.internal certificate).
  const upstreamPki = makeTestPki(join(base, "pki-upstream"), ["localhost"]);
  const untrusted = makeTestPki(join(base, "pki-untrusted"), ["localhost"]);
  const trustBundle = join(base, "pki", "trust-bundle.crt");
  writeFileSync(trustBundle, Buffer.concat([readFileSync(SYSTEM_CA_BUNDLE), upstreamPki.ca]), { mode: 0o644 });

  const listened = [...new Set(original.sites.flatMap((s) => [s.listen.https, s.listen.http, s.federationListener]))].filter((p): p is number => p !== null);
  const fresh = await freePorts(listened.length);
  const portMap = new Map(listened.map((p, i) => [p, fresh[i]!]));
  const upstreamMap = await startUpstreams(original.sites, { base, trusted: upstreamPki, untrusted });

  const doc = parseDocument(fixtureText);
  original.sites.forEach((site, i) => {
    const at = (...p: (string | number)[]) => ["sites", i, ...p];
    const merged = (...p: string[]) => doc.getIn(at(...p)) ?? doc.getIn(["defaults", ...p]);
    doc.setIn(at("listen"), { https: portMap.get(site.listen.https), http: site.listen.http === null ? false : portMap.get(site.listen.http) });
    const fed = merged("federation", "port");
    if (typeof fed === "number") doc.setIn(at("federation", "port"), portMap.get(fed) ?? fed);
    const server = merged("well_known", "server");
    if (typeof server === "string") doc.setIn(at("well_known", "server"), remapHostPort(server, portMap));
    doc.setIn(at("homeserver", "upstream"), upstreamMap.get(upstreamKey(site.upstream))!.url);
    doc.setIn(at("homeserver", "timeout"), `${TIMEOUT_SECONDS}s`);
    doc.setIn(at("tls"), tlsFor(site.tls, base, pki));
  });
  const text = doc.toString();
  const compiled = compileSite("site.yaml", text);
  const plan = compileOk(text, `${name} (loopback)`, compiled);
  const files = compiled.files!;

  return {
    name,
    original,
    text,
    plan,
    files,
    portMap,
    pki,
    trustBundle,
    upstreamOf: (i) => upstreamMap.get(upstreamKey(original.sites[i]!.upstream))!,
    upstreams: [...upstreamMap.values()],
    names,
    connectPort(hostname, port) {
      const mapped = portMap.get(port);
      if (mapped !== undefined) return mapped;
      if ([...portMap.values()].includes(port)) return port; // already loopback (a default base_url)
      const site = plan.sites.find((x) => x.serverName === hostname || x.host === hostname);
      return port === 443 && site ? site.listen.https : null;
    },
    writeOut(dir) {
      writeOutput(dir, files);
      if (plan.sites.some((s) => s.upstream.kind === "tcp" && s.upstream.scheme === "https")) trustTestCa(dir, files, trustBundle);
    },
    async close() {
      await Promise.all([...upstreamMap.values()].map((u) => u.close()));
    },
  };
}

// --- internal ---

function compileOk(text: string, what: string, compiled = compileSite("site.yaml", text)): Plan {
  const errors = compiled.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || !compiled.plan) throw new Error(`${what} does not compile:\n${errors.map(formatDiagnostic).join("\n")}\n${text}`);
  return compiled.plan;
}

/** `host:port` with the port mapped (an m.server the fixture spells out). */
function remapHostPort(value: string, portMap: Map<number, number>): string {
  const m = /^(.*):([0-9]+)$/.exec(value);
  return m && portMap.has(Number(m[2])) ? `${m[1]}:${portMap.get(Number(m[2]))}` : value;
}

/**
 * Test certificate files. A fixture with `tls: {cert, key}` keeps its file names (mirrored under
 * the temp folder, so spaces and quotes in them still reach the configs); ACME becomes files.
 */
function tlsFor(tls: Plan["sites"][number]["tls"], base: string, pki: TestPki): { cert: string; key: string } {
  if (tls.kind === "acme") return { cert: pki.chainFile, key: pki.keyFile };
  const cert = join(base, "tls-files", tls.cert);
  const key = join(base, "tls-files", tls.key);
  for (const [from, to] of [[pki.chainFile, cert], [pki.keyFile, key]] as const) {
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    copyFileSync(from, to);
  }
  return { cert, key };
}

/**
 * The one test-only change to rendered files: nginx and Apache name the system trust store for
 * HTTPS upstreams; point that name at system store + test CA, as an operator with an internal CA
 * would add it to the store. (Caddy uses the system pool: the test sets SSL_CERT_FILE for it.)
 */
function trustTestCa(dir: string, files: RenderedFile[], bundle: string): void {
  for (const f of files.filter((f) => f.backend === "nginx" || f.backend === "apache")) {
    const n = f.contents.split(SYSTEM_CA_BUNDLE).length - 1;
    if (n === 0) throw new Error(`${f.path}: HTTPS upstream but ${SYSTEM_CA_BUNDLE} is not named (the test expects the system store)`);
    writeFileSync(join(dir, f.path), f.contents.replaceAll(SYSTEM_CA_BUNDLE, bundle));
  }
}
