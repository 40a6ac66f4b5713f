// Traefik v3: a file-provider dynamic configuration (traefik/mxproxy.yml) and the static
// configuration it relies on (traefik/static/traefik.yml). Traefik cannot return a static body,
// so the well-known documents go to the homeserver or to a static file server (see wellKnown()).
import type { Plan, RenderedFile, SitePlan, TraefikOptions } from "../types.js";
import { CORS_HEADERS, hostNames, provenance } from "../_common.js";
import { template } from "../_templates.js";
import { toYaml } from "../_yaml-out.js";
import { yamlString } from "../_escape.js";
import { traefikStatic, entryPoints, type EntryPoints } from "./traefik-static.js";

/** Where the static configuration expects the dynamic file (a knob: backends.traefik.dynamic_dir). */
export const DYNAMIC_DIR = "/etc/traefik/dynamic";

/** renderTraefik renders the dynamic and the static configuration. */
export function renderTraefik(plan: Plan): RenderedFile[] {
  const eps = entryPoints(plan);
  const ids = siteIds(plan);
  const http = { routers: {} as Record<string, unknown>, middlewares: {} as Record<string, unknown>, services: {} as Record<string, unknown>, serversTransports: {} as Record<string, unknown> };
  const certificates: unknown[] = [];
  const notes: string[] = [];
  plan.sites.forEach((site, i) => {
    const opts = options(plan, site);
    addSite(http, site, ids[i]!, opts, eps);
    if (site.tls.kind === "files") certificates.push({ certFile: site.tls.cert, keyFile: site.tls.key });
    notes.push(...wellKnownNotes(site, opts));
  });
  const dynamic: Record<string, unknown> = { http };
  if (certificates.length > 0) dynamic.tls = { certificates };
  const dyn = template("traefik/mxproxy.yml")({ provenance: provenance(plan), names: plan.sites.map((s) => s.serverName).join(", "), notes, body: toYaml(dynamic) });
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

type Http = { routers: Record<string, unknown>; middlewares: Record<string, unknown>; services: Record<string, unknown>; serversTransports: Record<string, unknown> };

function addSite(http: Http, site: SitePlan, id: string, opts: TraefikOptions, eps: EntryPoints): void {
  const tls = site.tls.kind === "acme" ? { certResolver: opts.cert_resolver ?? "letsencrypt" } : {};
  const https = [eps.https(site.listen.https)];
  const hostRule = (name: string) => `Host(\`${name}\`)`;
  const wkRule = (name: string) => `${hostRule(name)} && PathPrefix(\`/.well-known/matrix/\`)`;
  const upstream = opts.upstream ?? (site.upstream.kind === "tcp" ? site.upstream.url : "");

  http.serversTransports[`${id}-transport`] = { forwardingTimeouts: { responseHeaderTimeout: `${site.timeout.seconds}s` } };
  http.services[`${id}-homeserver`] = { loadBalancer: { servers: [{ url: upstream.replace(/\/$/, "") }], passHostHeader: true, serversTransport: `${id}-transport` } };
  // buffering reads the whole body first, so an over-limit request gets 413 and the homeserver nothing.
  http.middlewares[`${id}-body-limit`] = { buffering: { maxRequestBodyBytes: site.maxUpload.bytes } };
  http.middlewares[`${id}-cors`] = { headers: { customResponseHeaders: Object.fromEntries([["Content-Type", "application/json"], ...CORS_HEADERS]) } };

  const static_ = wellKnownMode(opts) === "static";
  if (static_) {
    http.services[`${id}-well-known`] = { loadBalancer: { servers: [{ url: opts.static_url!.replace(/\/$/, "") }], passHostHeader: false } };
  }
  // Each name's well-known paths: the documents on the server name; elsewhere the static server
  // answers 404 (no such folder), the homeserver whatever it serves.
  for (const name of hostNames(site)) {
    const middlewares = [`${id}-cors`];
    if (static_) {
      http.middlewares[`${id}-prefix-${slug(name)}`] = { addPrefix: { prefix: `/${name}` } };
      middlewares.unshift(`${id}-prefix-${slug(name)}`);
    }
    const entry = name === site.host && site.federationListener ? [...https, eps.federation(site.federationListener)] : https;
    http.routers[`${id}-well-known-${slug(name)}`] = { rule: wkRule(name), entryPoints: entry, middlewares, service: static_ ? `${id}-well-known` : `${id}-homeserver`, tls };
  }
  // No router for the rest of the server name: Traefik answers 404 where no router matches.
  const entry = site.federationListener ? [...https, eps.federation(site.federationListener)] : https;
  http.routers[`${id}-homeserver`] = { rule: hostRule(site.host), entryPoints: entry, middlewares: [`${id}-body-limit`], service: `${id}-homeserver`, tls };
  if (site.listen.http !== null) {
    const redirect: Record<string, unknown> = { scheme: "https", permanent: true };
    if (site.listen.https !== 443) redirect.port = String(site.listen.https);
    http.middlewares[`${id}-to-https`] = { redirectScheme: redirect };
    // Matrix clients must see CORS on a redirect on the way to a well-known document too.
    http.middlewares[`${id}-redirect-cors`] = { headers: { customResponseHeaders: { "Access-Control-Allow-Origin": "*" } } };
    http.routers[`${id}-to-https`] = { rule: hostNames(site).map(hostRule).join(" || "), entryPoints: [eps.http(site.listen.http)], middlewares: [`${id}-redirect-cors`, `${id}-to-https`], service: "noop@internal" };
  }
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
