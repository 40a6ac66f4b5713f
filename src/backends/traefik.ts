// Traefik v3: a file-provider dynamic configuration (traefik/mxproxy.yml) and the static
// configuration it relies on (traefik/static/traefik.yml). Traefik cannot return a static body,
// so the well-known documents go to the homeserver or to a static file server (see wellKnown()).
import type { Plan, RenderedFile, SitePlan, TraefikOptions } from "../types.js";
import { CORS_HEADERS, hostNames, provenance } from "../_common.js";
import { template } from "../_templates.js";
import { MappingText, bareKey, toYaml, yamlInner } from "../_yaml-out.js";
import { yamlString } from "../_escape.js";
import { traefikStatic, entryPoints, type EntryPoints } from "./traefik-static.js";

/** Where the static configuration expects the dynamic file (a knob: backends.traefik.dynamic_dir). */
export const DYNAMIC_DIR = "/etc/traefik/dynamic";

/** renderTraefik renders the dynamic and the static configuration. */
export function renderTraefik(plan: Plan): RenderedFile[] {
  const eps = entryPoints(plan);
  const ids = siteIds(plan);
  const repeat = keysMayRepeat(plan, ids);
  const http: Http = { routers: new MappingText(repeat), middlewares: new MappingText(repeat), services: new MappingText(repeat), serversTransports: new MappingText(repeat) };
  const w = new Writer(http, eps);
  const certificates: string[] = [];
  const notes: string[] = [];
  plan.sites.forEach((site, i) => {
    const opts = options(plan, site);
    w.site(site, ids[i]!, opts);
    if (site.tls.kind === "files") certificates.push("    - certFile: ", yamlString(site.tls.cert), "\n      keyFile: ", yamlString(site.tls.key), "\n");
    for (const line of wellKnownNotes(site, opts)) notes.push(line);
  });
  const dyn = template("traefik/mxproxy.yml")({ provenance: provenance(plan), names: plan.sites.map((s) => s.serverName).join(", "), notes, body: dynamicBody(http, certificates) });
  const stat = template("traefik/traefik.yml")({ provenance: provenance(plan), dynamicDir: DYNAMIC_DIR, body: toYaml(traefikStatic(plan, eps, DYNAMIC_DIR)) });
  return [
    { path: "traefik/mxproxy.yml", backend: "traefik", contents: dyn },
    { path: "traefik/static/traefik.yml", backend: "traefik", contents: stat },
  ];
}

/** options merges the file's backends.traefik with the site's own (the site wins). */
export function options(plan: Plan, site: SitePlan): TraefikOptions {
  return { ...plan.backends.traefik, ...site.backends.traefik };
}

/** wellKnownMode is how Traefik serves a site's documents: `static` only with a static_url. */
export function wellKnownMode(opts: TraefikOptions): "homeserver" | "static" {
  return opts.well_known ?? (opts.static_url ? "static" : "homeserver");
}

// --- internal ---

// The dynamic file is written as text, in the layout toYaml gives the object tree { http: {
// routers, middlewares, services, serversTransports }, tls: { certificates } } with the entries
// in the order the tree would hold them: at 10,000 sites that tree and its generic walk took over
// a second, mostly garbage collection. test/traefik-fast.test.ts compares the two.

type Http = { routers: MappingText; middlewares: MappingText; services: MappingText; serversTransports: MappingText };

function dynamicBody(http: Http, certificates: string[]): string {
  const body = `http:\n${http.routers.write("  routers:")}${http.middlewares.write("  middlewares:")}${http.services.write("  services:")}${http.serversTransports.write("  serversTransports:")}`;
  return (certificates.length > 0 ? `${body}tls:\n  certificates:\n${certificates.join("")}` : body).slice(0, -1);
}

// Lines that are the same for every site, 6 spaces deep (below an entry's key).
const CORS = `${toYaml({ headers: { customResponseHeaders: Object.fromEntries([["Content-Type", "application/json"], ...CORS_HEADERS]) } }, 6)}\n`;
const REDIRECT_CORS = `${toYaml({ headers: { customResponseHeaders: { "Access-Control-Allow-Origin": "*" } } }, 6)}\n`;
const TO_HTTPS = '      redirectScheme:\n        scheme: "https"\n        permanent: true\n';

/**
 * Writer writes each site's entries into the four sections. Strings are spliced into quoted
 * scalars already escaped (yamlInner) and only between ASCII text, which is what yamlString of
 * the whole would give; ids and slugs are [a-z0-9-] and need no escaping.
 */
class Writer {
  private readonly quoted = new Map<string, string>();

  constructor(
    private readonly http: Http,
    private readonly eps: EntryPoints,
  ) {}

  site(site: SitePlan, id: string, opts: TraefikOptions): void {
    const { routers, middlewares, services, serversTransports } = this.http;
    // Keys are the id, "-" and [a-z0-9-] (fixed text, slugs): quoted exactly when the id is.
    const [open, close] = bareKey(id) ? ["    ", ":\n"] : ['    "', '":\n'];
    const tls = site.tls.kind === "acme" ? this.line("      tls:\n        certResolver: ", opts.cert_resolver ?? "letsencrypt") : "      tls: {}\n";
    const https = this.line("        - ", this.eps.https(site.listen.https));
    const federation = site.federationListener ? this.line("        - ", this.eps.federation(site.federationListener)) : "";
    const upstream = this.quote(trimSlash(opts.upstream ?? (site.upstream.kind === "tcp" ? site.upstream.url : "")));

    serversTransports.begin();
    serversTransports.parts.push(open, id, "-transport", close, '      forwardingTimeouts:\n        responseHeaderTimeout: "', String(site.timeout.seconds), 's"\n');
    serversTransports.end(id, "-transport");
    services.begin();
    services.parts.push(open, id, "-homeserver", close, "      loadBalancer:\n        servers:\n          - url: ", upstream, "\n        passHostHeader: true\n        serversTransport: \"", id, '-transport"\n');
    services.end(id, "-homeserver");
    // buffering reads the whole body first, so an over-limit request gets 413 and the homeserver nothing.
    middlewares.begin();
    middlewares.parts.push(open, id, "-body-limit", close, "      buffering:\n        maxRequestBodyBytes: ", String(site.maxUpload.bytes), "\n");
    middlewares.end(id, "-body-limit");
    middlewares.begin();
    middlewares.parts.push(open, id, "-cors", close, CORS);
    middlewares.end(id, "-cors");

    const static_ = wellKnownMode(opts) === "static";
    if (static_) {
      services.begin();
      services.parts.push(open, id, "-well-known", close, "      loadBalancer:\n        servers:\n          - url: ", this.quote(trimSlash(opts.static_url!)), "\n        passHostHeader: false\n");
      services.end(id, "-well-known");
    }
    // Each name's well-known paths: the documents on the server name; elsewhere the static server
    // answers 404 (no such folder), the homeserver whatever it serves.
    const names = hostNames(site);
    const escaped = names.map(yamlInner);
    names.forEach((name, i) => {
      const prefix = `-prefix-${slug(name)}`;
      if (static_) {
        middlewares.begin();
        middlewares.parts.push(open, id, prefix, close, '      addPrefix:\n        prefix: "/', escaped[i]!, '"\n');
        middlewares.end(id, prefix);
      }
      const key = `-well-known-${slug(name)}`;
      routers.begin();
      routers.parts.push(open, id, key, close, '      rule: "Host(`', escaped[i]!, '`) && PathPrefix(`/.well-known/matrix/`)"\n      entryPoints:\n', https);
      if (name === site.host) routers.parts.push(federation);
      routers.parts.push("      middlewares:\n");
      if (static_) routers.parts.push('        - "', id, prefix, '"\n');
      routers.parts.push('        - "', id, '-cors"\n      service: "', id, static_ ? '-well-known"\n' : '-homeserver"\n', tls);
      routers.end(id, key);
    });
    // No router for the rest of the server name: Traefik answers 404 where no router matches.
    routers.begin();
    routers.parts.push(open, id, "-homeserver", close, '      rule: "Host(`', yamlInner(site.host), '`)"\n      entryPoints:\n', https, federation);
    routers.parts.push('      middlewares:\n        - "', id, '-body-limit"\n      service: "', id, '-homeserver"\n', tls);
    routers.end(id, "-homeserver");
    if (site.listen.http === null) return;
    middlewares.begin();
    middlewares.parts.push(open, id, "-to-https", close, TO_HTTPS);
    if (site.listen.https !== 443) middlewares.parts.push('        port: "', String(site.listen.https), '"\n');
    middlewares.end(id, "-to-https");
    // Matrix clients must see CORS on a redirect on the way to a well-known document too.
    middlewares.begin();
    middlewares.parts.push(open, id, "-redirect-cors", close, REDIRECT_CORS);
    middlewares.end(id, "-redirect-cors");
    routers.begin();
    routers.parts.push(open, id, "-to-https", close, '      rule: "Host(`', escaped.join("`) || Host(`"), '`)"\n      entryPoints:\n', this.line("        - ", this.eps.http(site.listen.http)));
    routers.parts.push('      middlewares:\n        - "', id, '-redirect-cors"\n        - "', id, '-to-https"\n      service: "noop@internal"\n');
    routers.end(id, "-to-https");
  }

  /** quote is yamlString, remembered: upstreams and entry point names repeat from site to site. */
  private quote(value: string): string {
    let q = this.quoted.get(value);
    if (q === undefined) this.quoted.set(value, (q = yamlString(value)));
    return q;
  }

  /** line is `head` and the quoted value on one line, remembered per value (few heads are used). */
  private line(head: string, value: string): string {
    const key = head + value;
    let q = this.quoted.get(key);
    if (q === undefined) this.quoted.set(key, (q = `${head}${yamlString(value)}\n`));
    return q;
  }
}

/** keysMayRepeat tells whether two entries of a section could have the same key. */
function keysMayRepeat(plan: Plan, ids: string[]): boolean {
  // Keys are id + "-" + suffix: sites' keys meet only if an id is another id + "-" + more (or equal).
  const set = new Set(ids);
  if (set.size < ids.length) return true;
  for (const id of ids) {
    for (let p = id.indexOf("-"); p >= 0; p = id.indexOf("-", p + 1)) if (set.has(id.slice(0, p))) return true;
  }
  // Within a site, only the per-name entries can meet: two names with the same slug.
  return plan.sites.some((s) => new Set(hostNames(s).map(slug)).size < hostNames(s).length);
}

function trimSlash(url: string): string {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

function wellKnownNotes(site: SitePlan, opts: TraefikOptions): string[] {
  if (wellKnownMode(opts) === "static") {
    return [` ${site.serverName}: /.well-known/matrix/* goes to ${opts.static_url}, which must serve out/well-known/ as its root (mxproxy does not start it).`];
  }
  const client = site.wellKnown.find((d) => d.name === "client")?.json as { "m.homeserver": { base_url: string } } | undefined;
  const lines = [` ${site.serverName}: /.well-known/matrix/* goes to the homeserver, which must serve the documents itself. Conduit/conduwuit:`, "   [global.well_known]"];
  // TOML basic strings read the same escapes as yamlString writes (nothing raw but printable ASCII).
  if (client) lines.push(`   client = ${yamlString(client["m.homeserver"].base_url)}`);
  if (site.federationTarget) lines.push(`   server = ${yamlString(site.federationTarget)}`);
  lines.push(` Synapse: public_baseurl and serve_server_wellknown: true. Dendrite: global.well_known_server_name/_client_name.`);
  return lines;
}

function siteIds(plan: Plan): string[] {
  const slugs = plan.sites.map((s) => slug(s.serverName));
  const count = new Map<string, number>();
  for (const s of slugs) count.set(s, (count.get(s) ?? 0) + 1);
  // Names that collide once dots become dashes (a-b.com, a.b-com) get the site's index.
  return slugs.map((s, i) => (count.get(s)! > 1 ? `${s}-${i}` : s));
}

function slug(name: string): string {
  return name.replace(/[^a-z0-9]+/g, "-");
}
