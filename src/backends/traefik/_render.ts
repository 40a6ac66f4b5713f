// Traefik v3: a file-provider dynamic configuration (traefik/mxproxy.yml) and the static
// configuration it relies on (traefik/static/traefik.yml). Traefik cannot return a static body,
// so the well-known documents go to the homeserver or to a static file server (see wellKnown()).
import type { Plan, RenderedFile, SitePlan, TraefikOptions } from "../../types.js";
import { CORS_HEADERS, hostNames, provenance } from "../_shared.js";
import { template } from "../_templates.js";
import { MappingText, bareKey, toYaml, yamlInner } from "./_yaml-out.js";
import { yamlString } from "./_escape.js";
import { traefikStatic, entryPoints, type EntryPoints } from "./_static.js";

/** Where the static configuration expects the dynamic file (a knob: backends.traefik.dynamic_dir). */
export const DYNAMIC_DIR = "/etc/traefik/dynamic";

/** renderTraefik renders the dynamic and the static configuration. */
export function renderTraefik(plan: Plan): RenderedFile[] {
  const eps = entryPoints(plan);
  const keys = siteKeys(plan);
  const dynamic = new DynamicWriter(eps);
  const notes: string[] = [];
  plan.sites.forEach((site, i) => {
    const opts = options(plan, site);
    dynamic.site(site, keys[i]!, opts);
    for (const line of wellKnownNotes(site, opts)) notes.push(line);
  });
  const dyn = template("traefik/mxproxy.yml")({ provenance: provenance(plan), names: plan.sites.map((s) => s.serverName).join(", "), notes, body: dynamic.text() });
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
// routers, middlewares, services, serversTransports }, tls: { certificates } } and with the
// entries in the order that tree would hold them: at 10,000 sites the tree and its generic walk
// took over a second, mostly garbage collection. test/traefik-fast.test.ts compares the two.

/** A site's key material: its id and the slug of each of its names (hostNames order). */
type SiteKeys = { id: string; slugs: string[] };

// Lines that are the same for every site, 6 spaces deep (below an entry's key).
const CORS = flat(toYaml({ headers: { customResponseHeaders: Object.fromEntries([["Content-Type", "application/json"], ...CORS_HEADERS]) } }, 6), "\n");
const REDIRECT_CORS = flat(toYaml({ headers: { customResponseHeaders: { "Access-Control-Allow-Origin": "*" } } }, 6), "\n");

/**
 * DynamicWriter writes each site's entries into the four sections (MappingText). Values are
 * spliced into quoted scalars escaped (yamlInner) and only between ASCII text, which is what
 * yamlString of the whole gives; ids and slugs are [a-z0-9-] and need no escaping.
 */
class DynamicWriter {
  private readonly routers = new MappingText();
  private readonly middlewares = new MappingText();
  private readonly services = new MappingText();
  private readonly transports = new MappingText();
  private readonly certificates: string[] = [];
  // Values that repeat from site to site (upstreams, entry point and resolver names), written once.
  private readonly quoted = new Map<string, string>();
  private readonly entryLines = new Map<string, string>();
  private readonly tlsLines = new Map<string, string>();

  constructor(private readonly eps: EntryPoints) {}

  site(site: SitePlan, { id, slugs }: SiteKeys, opts: TraefikOptions): void {
    const { routers, middlewares, services, transports } = this;
    // Keys are the id, "-" and [a-z0-9-] (fixed text, slugs): quoted exactly when the id is.
    const quote = !bareKey(id);
    routers.quoteKeys = middlewares.quoteKeys = services.quoteKeys = transports.quoteKeys = quote;
    const tls = site.tls.kind === "acme" ? this.tlsLine(opts.cert_resolver ?? "letsencrypt") : "      tls: {}\n";
    const https = this.entryLine(this.eps.https(site.listen.https));
    const federation = site.federationListener ? this.entryLine(this.eps.federation(site.federationListener)) : "";
    const upstream = this.quote(trimSlash(opts.upstream ?? (site.upstream.kind === "tcp" ? site.upstream.url : "")));

    transports.entry`    ${id}-transport:\n      forwardingTimeouts:\n        responseHeaderTimeout: "${site.timeout.seconds}s"\n`;
    services.entry`    ${id}-homeserver:\n      loadBalancer:\n        servers:\n          - url: ${upstream}\n        passHostHeader: true\n        serversTransport: "${id}-transport"\n`;
    // buffering reads the whole body first, so an over-limit request gets 413 and the homeserver nothing.
    middlewares.entry`    ${id}-body-limit:\n      buffering:\n        maxRequestBodyBytes: ${site.maxUpload.bytes}\n`;
    middlewares.entry`    ${id}-cors:\n${CORS}`;

    const static_ = wellKnownMode(opts) === "static";
    if (static_) {
      services.entry`    ${id}-well-known:\n      loadBalancer:\n        servers:\n          - url: ${this.quote(trimSlash(opts.static_url!))}\n        passHostHeader: false\n`;
    }
    // Each name's well-known paths: the documents on the server name; elsewhere the static server
    // answers 404 (no such folder), the homeserver whatever it serves.
    const names = hostNames(site);
    const escaped = names.map(yamlInner);
    for (let i = 0; i < names.length; i++) {
      const more = names[i] === site.host ? federation : "";
      if (static_) {
        middlewares.entry`    ${id}-prefix-${slugs[i]!}:\n      addPrefix:\n        prefix: "/${escaped[i]!}"\n`;
        routers.entry`    ${id}-well-known-${slugs[i]!}:\n      rule: "Host(\`${escaped[i]!}\`) && PathPrefix(\`/.well-known/matrix/\`)"\n      entryPoints:\n${https}${more}      middlewares:\n        - "${id}-prefix-${slugs[i]!}"\n        - "${id}-cors"\n      service: "${id}-well-known"\n${tls}`;
      } else {
        routers.entry`    ${id}-well-known-${slugs[i]!}:\n      rule: "Host(\`${escaped[i]!}\`) && PathPrefix(\`/.well-known/matrix/\`)"\n      entryPoints:\n${https}${more}      middlewares:\n        - "${id}-cors"\n      service: "${id}-homeserver"\n${tls}`;
      }
    }
    // No router for the rest of the server name: Traefik answers 404 where no router matches.
    routers.entry`    ${id}-homeserver:\n      rule: "Host(\`${yamlInner(site.host)}\`)"\n      entryPoints:\n${https}${federation}      middlewares:\n        - "${id}-body-limit"\n      service: "${id}-homeserver"\n${tls}`;
    if (site.listen.http !== null) {
      const port = site.listen.https !== 443 ? `        port: "${site.listen.https}"\n` : "";
      middlewares.entry`    ${id}-to-https:\n      redirectScheme:\n        scheme: "https"\n        permanent: true\n${port}`;
      // Matrix clients must see CORS on a redirect on the way to a well-known document too.
      middlewares.entry`    ${id}-redirect-cors:\n${REDIRECT_CORS}`;
      const rule = escaped.join("`) || Host(`");
      routers.entry`    ${id}-to-https:\n      rule: "Host(\`${rule}\`)"\n      entryPoints:\n${this.entryLine(this.eps.http(site.listen.http))}      middlewares:\n        - "${id}-redirect-cors"\n        - "${id}-to-https"\n      service: "noop@internal"\n`;
    }
    if (site.tls.kind === "files") this.certificates.push(`    - certFile: ${yamlString(site.tls.cert)}\n      keyFile: ${yamlString(site.tls.key)}\n`);
  }

  /** text is the YAML of { http: {…}, tls: { certificates } }, with no newline at the end. */
  text(): string {
    const sections = [this.routers.write("  routers:"), this.middlewares.write("  middlewares:"), this.services.write("  services:"), this.transports.write("  serversTransports:")];
    if (this.certificates.length > 0) sections.push(`tls:\n  certificates:\n${this.certificates.join("")}`);
    // Cut the newline off the last section, not the whole text (slicing a concatenation copies it
    // all), and concatenate: the sections are copied once, when the file is written.
    sections.push(sections.pop()!.slice(0, -1));
    let text = "http:\n";
    for (const section of sections) text += section;
    return text;
  }

  private quote(value: string): string {
    let q = this.quoted.get(value);
    if (q === undefined) this.quoted.set(value, (q = yamlString(value)));
    return q;
  }

  private entryLine(name: string): string {
    let line = this.entryLines.get(name);
    if (line === undefined) this.entryLines.set(name, (line = flat("        - ", yamlString(name), "\n")));
    return line;
  }

  private tlsLine(resolver: string): string {
    let line = this.tlsLines.get(resolver);
    if (line === undefined) this.tlsLines.set(resolver, (line = flat("      tls:\n        certResolver: ", yamlString(resolver), "\n")));
    return line;
  }
}

/**
 * siteKeys names each site's entries: its server name's slug (`example-com`) as the id, and its
 * names' slugs for the per-name entries. Keys are id + "-" + suffix, so readable ids can make two
 * entries one key (x.com's `redirect-cors` and x.com.redirect's `cors`; a.b.test and a-b.test;
 * 1a.b-c.com with host 1a-b.c.com): the later would silently replace the earlier and a site would
 * lose its routes. When that can happen, every site is named by its position instead
 * (`site-0`, names `server` and `host`), which cannot meet.
 */
export function siteKeys(plan: Plan): SiteKeys[] {
  const slugs = plan.sites.map((s) => hostNames(s).map(slug));
  const count = new Map<string, number>();
  for (const names of slugs) count.set(names[0]!, (count.get(names[0]!) ?? 0) + 1);
  // Names that collide once dots become dashes (a-b.com, a.b-com) get the site's index.
  const readable = slugs.map((names, i) => ({ id: count.get(names[0]!)! > 1 ? `${names[0]}-${i}` : names[0]!, slugs: names }));
  if (!keysMayRepeat(readable)) return readable;
  return slugs.map((names, i) => ({ id: `site-${i}`, slugs: names.length === 1 ? ["server"] : ["server", "host"] }));
}

/** keysMayRepeat tells whether two entries of a section could have the same key (see siteKeys). */
function keysMayRepeat(keys: SiteKeys[]): boolean {
  // Keys are id + "-" + suffix: two sites' keys meet only if the ids are equal, or one is the
  // other + "-" + more (x-com-redirect-cors is x-com's redirect-cors and x-com-redirect's cors).
  const ids = new Set<string>();
  for (const { id } of keys) ids.add(id);
  if (ids.size < keys.length) return true;
  for (const { id } of keys) {
    for (let p = id.indexOf("-"); p >= 0; p = id.indexOf("-", p + 1)) if (ids.has(id.slice(0, p))) return true;
  }
  // Within a site, only the per-name entries can meet: two names with one slug.
  return keys.some(({ slugs }) => slugs.some((s, j) => slugs.indexOf(s) !== j));
}

/** flat concatenates into one flat string (`+` makes a tree above 12 characters, slower to copy). */
function flat(...pieces: string[]): string {
  return pieces.join("");
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

function slug(name: string): string {
  return name.replace(/[^a-z0-9]+/g, "-");
}
