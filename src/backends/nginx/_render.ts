// nginx: one file of server blocks per site, to include inside http {}.
// Views are built for thousands of sites at a time: one object literal per block (no spreads),
// escaped constants computed once, shared read-only arrays (templates never change a view).
import type { Plan, RenderedFile, SitePlan } from "../../types.js";
import { CORS_HEADERS, MOZILLA_INTERMEDIATE, httpsAuthority, provenance, sizeText, tlsFiles, upstreamText } from "../_shared.js";
import { nginxString } from "./_escape.js";
import { template } from "../_templates.js";

/** renderNginx renders `nginx/<server_name>.conf` for every site. */
export function* renderNginx(plan: Plan): Generator<RenderedFile> {
  const render = template("nginx/site.conf");
  const head = provenance(plan);
  // One file at a time: a writer that takes each as it comes never holds them all (renderFiles).
  for (const site of plan.sites) yield { path: `nginx/${site.serverName}.conf`, backend: "nginx", contents: render(view(head, site)) };
}

// --- internal ---

interface Server {
  comment: string;
  listens: string[];
  serverName: string;
  hostCheck: string;
  tls: { cert: string; key: string; protocols: string; ciphers: string } | null;
  redirect: string | null;
  acmeWebroot: boolean;
  documents: Document[];
  wellKnown404: boolean;
  notFound: boolean;
  proxy: Proxy | null;
}
interface Document {
  path: string;
  headers: { name: string; value: string }[];
  body: string;
}
interface Proxy {
  target: string;
  maxUpload: string;
  timeout: string;
  upstreamTls: string[];
}

const HEADERS = CORS_HEADERS.map(([name, value]) => ({ name, value: nginxString(value) }));
const PROTOCOLS = MOZILLA_INTERMEDIATE.protocols.join(" ");
const NONE: never[] = [];
// Verify the homeserver's certificate and send SNI, as Caddy and Traefik do by default.
const UPSTREAM_TLS = ["proxy_ssl_server_name on", "", "proxy_ssl_verify on", "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt"];

function view(provenance: string, site: SitePlan) {
  const servers: Server[] = [];
  const documents: Document[] = [];
  for (const d of site.wellKnown) documents.push({ path: d.path, headers: HEADERS, body: nginxString(d.body) });
  const name = site.serverName;
  const host = site.host;
  const nameCheck = nginxString(name);
  const hostCheck = site.sameHost ? nameCheck : nginxString(host);
  const files = site.tls.kind === "files" ? tls(site.tls.cert, site.tls.key) : null;
  if (!site.sameHost) {
    const s = server(`Well-known documents for ${name}.`, httpsListens(site.listen.https), name, nameCheck, files ?? acme(site, name));
    s.documents = documents;
    s.wellKnown404 = true;
    s.notFound = true;
    servers.push(s);
  }
  const fed = site.federationListener;
  const listens = fed ? [...httpsListens(site.listen.https), ...httpsListens(fed)] : httpsListens(site.listen.https);
  const comment = site.sameHost ? `Well-known documents and homeserver on ${host}.` : `Homeserver ${host}${fed ? ` (clients and federation on ${fed})` : ""}.`;
  const main = server(comment, listens, host, hostCheck, files ?? acme(site, host));
  if (site.sameHost) main.documents = documents;
  main.wellKnown404 = true;
  main.proxy = proxy(site);
  servers.push(main);
  if (site.listen.http !== null) {
    const http = httpListens(site.listen.http);
    const acmeWebroot = site.tls.kind === "acme";
    servers.push(redirect(site, name, nameCheck, http, acmeWebroot));
    if (!site.sameHost) servers.push(redirect(site, host, hostCheck, http, acmeWebroot));
  }
  // Debian's default server_names_hash_bucket_size (64) fits names of up to about 48 bytes.
  const longest = site.sameHost ? name.length : Math.max(name.length, host.length);
  const longNames = longest > 48 ? (longest > 100 ? 512 : 128) : null;
  return { provenance, serverName: name, host, upstreamText: upstreamText(site), longNames, servers };
}

function server(comment: string, listens: string[], serverName: string, hostCheck: string, tls: Server["tls"]): Server {
  return { comment, listens, serverName, hostCheck, tls, redirect: null, acmeWebroot: false, documents: NONE, wellKnown404: false, notFound: false, proxy: null };
}

function redirect(site: SitePlan, name: string, check: string, listens: string[], acmeWebroot: boolean): Server {
  const s = server(`Plain HTTP on ${name} only redirects to HTTPS.`, listens, name, check, null);
  s.redirect = `https://${httpsAuthority(site, name)}$request_uri`;
  s.acmeWebroot = acmeWebroot;
  return s;
}

function tls(cert: string, key: string): Server["tls"] {
  return { cert: nginxString(cert), key: nginxString(key), protocols: PROTOCOLS, ciphers: MOZILLA_INTERMEDIATE.ciphers };
}

function acme(site: SitePlan, name: string): Server["tls"] {
  const f = tlsFiles(site, name);
  return tls(f.cert, f.key);
}

function proxy(site: SitePlan): Proxy {
  const u = site.upstream;
  let upstreamTls: string[] = NONE;
  if (u.kind === "tcp" && u.scheme === "https") {
    upstreamTls = UPSTREAM_TLS.slice();
    upstreamTls[1] = `proxy_ssl_name ${nginxString(u.host)}`;
  }
  return {
    target: nginxString(u.kind === "unix" ? `http://unix:${u.path}` : u.url),
    maxUpload: sizeText(site),
    timeout: `${site.timeout.seconds}s`,
    upstreamTls,
  };
}

// Listen directives for a port: a few distinct ports in a file, so each list is built once.
const httpsCache = new Map<number, string[]>();
const httpCache = new Map<number, string[]>();

function httpsListens(port: number): string[] {
  let l = httpsCache.get(port);
  if (!l) httpsCache.set(port, (l = [`${port} ssl http2`, `[::]:${port} ssl http2`]));
  return l;
}

function httpListens(port: number): string[] {
  let l = httpCache.get(port);
  if (!l) httpCache.set(port, (l = [`${port}`, `[::]:${port}`]));
  return l;
}
