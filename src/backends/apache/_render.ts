// Apache httpd 2.4: one file of virtual hosts per site. Listen lines stay in the user's
// ports.conf (two files each saying "Listen 8448" would stop Apache); the header lists the ports.
// Views are built for thousands of sites at a time: one object literal per vhost (no spreads),
// escaped constants computed once, shared read-only arrays (templates never change a view).
import type { Plan, RenderedFile, SitePlan } from "../../types.js";
import { CORS_HEADERS, MOZILLA_INTERMEDIATE, httpsAuthority, provenance, regexLiteral, tlsFiles, upstreamText } from "../_shared.js";
import { apacheString } from "./_escape.js";
import { template } from "../_templates.js";


/** Modules the output needs beyond Debian's default set, for `a2enmod`. */
export const APACHE_MODULES = ["headers", "http2", "proxy", "proxy_http", "rewrite", "ssl"];

/** renderApache renders `apache/<server_name>.conf` for every site. */
export function* renderApache(plan: Plan): Generator<RenderedFile> {
  const render = template("apache/site.conf");
  const head = provenance(plan);
  // One file at a time: a writer that takes each as it comes never holds them all (renderFiles).
  for (const site of plan.sites) yield { path: `apache/${site.serverName}.conf`, backend: "apache", contents: render(view(head, site)) };
}

// --- internal ---

interface Vhost {
  comment: string;
  addresses: string;
  serverName: string;
  aliases: string[];
  hostRegex: string;
  tls: { cert: string; key: string; protocols: string; ciphers: string } | null;
  redirect: string | null;
  acmeWebroot: boolean;
  documents: { pathRegex: string; body: string; headers: { name: string; value: string }[] }[];
  notFound: boolean;
  wellKnown404: boolean;
  proxy: { maxBytes: number; target: string; timeout: number; upstreamTls: string[]; preserveHost: boolean } | null;
}

const MODULES = APACHE_MODULES.join(" ");
const HEADERS = [["Content-Type", "application/json"], ...CORS_HEADERS].map(([name, value]) => ({ name: name!, value: apacheString(value!) }));
const PROTOCOLS = MOZILLA_INTERMEDIATE.protocols.map((p) => `+${p}`).join(" ");
const NONE: never[] = [];
// Verify the homeserver's certificate, as Caddy and Traefik do by default.
const UPSTREAM_TLS = ["SSLProxyEngine on", "SSLProxyVerify require", "SSLProxyCheckPeerName on", "SSLProxyCACertificateFile /etc/ssl/certs/ca-certificates.crt"];

function view(provenance: string, site: SitePlan) {
  const documents: Vhost["documents"] = [];
  for (const d of site.wellKnown) documents.push({ pathRegex: pathRegex(d.path), body: apacheString(d.body, { expr: true }), headers: HEADERS });
  const vhosts: Vhost[] = [];
  const { serverName, host } = site;
  const nameRegex = regexLiteral(serverName);
  const hostRegex = site.sameHost ? nameRegex : regexLiteral(host);
  const https = site.listen.https;
  const fed = site.federationListener;
  if (!site.sameHost) {
    const v = vhost(`Well-known documents for ${serverName}.`, `*:${https}`, serverName, NONE, nameRegex, tls(site, serverName));
    v.documents = documents;
    v.notFound = true;
    v.wellKnown404 = true;
    vhosts.push(v);
  }
  const main = vhost(site.sameHost ? `Well-known documents and homeserver on ${host}.` : `Homeserver ${host}.`, fed ? `*:${https} *:${fed}` : `*:${https}`, host, NONE, hostRegex, tls(site, host));
  if (site.sameHost) main.documents = documents;
  main.wellKnown404 = true;
  main.proxy = proxy(site);
  vhosts.push(main);
  // The ports the vhosts use, each once, in order of use.
  let ports = `${https}`;
  if (fed && fed !== https) ports += ` ${fed}`;
  const http = site.listen.http;
  if (http !== null) {
    const v = site.sameHost
      ? vhost("Plain HTTP only redirects to HTTPS.", `*:${http}`, serverName, NONE, nameRegex, null)
      : vhost("Plain HTTP only redirects to HTTPS.", `*:${http}`, serverName, [host], `${nameRegex}|${hostRegex}`, null);
    // %{SERVER_NAME} is the requested name, already checked against the names we serve.
    v.redirect = `https://%{SERVER_NAME}${httpsAuthority(site, "")}`;
    v.acmeWebroot = site.tls.kind === "acme";
    vhosts.push(v);
    if (http !== https && http !== fed) ports += ` ${http}`;
  }
  return { provenance, serverName, host, upstreamText: upstreamText(site), modules: MODULES, ports, vhosts };
}

/** vhost makes a vhost for serverName and aliases; `names` is their regexLiteral()s joined by |. */
function vhost(comment: string, addresses: string, serverName: string, aliases: string[], names: string, tls: Vhost["tls"]): Vhost {
  return {
    comment,
    addresses,
    serverName,
    aliases,
    hostRegex: `"!^(?:${names})(?::[0-9]+)?$"`,
    tls,
    redirect: null,
    acmeWebroot: false,
    documents: NONE,
    notFound: false,
    wellKnown404: false,
    proxy: null,
  };
}

// The well-known paths are a few constants: each is escaped once.
const pathRegexes = new Map<string, string>();

function pathRegex(path: string): string {
  let r = pathRegexes.get(path);
  if (r === undefined) pathRegexes.set(path, (r = regexLiteral(path)));
  return r;
}

function tls(site: SitePlan, name: string): Vhost["tls"] {
  const files = tlsFiles(site, name);
  return { cert: apacheString(files.cert), key: apacheString(files.key), protocols: PROTOCOLS, ciphers: MOZILLA_INTERMEDIATE.ciphers };
}

function proxy(site: SitePlan): Vhost["proxy"] {
  const u = site.upstream;
  const target = apacheString(u.kind === "unix" ? `unix:${u.path}|http://localhost/` : `${u.url}/`);
  const https = u.kind === "tcp" && u.scheme === "https";
  // ProxyPreserveHost off for an HTTPS upstream (the template explains why).
  return { maxBytes: site.maxUpload.bytes, target, timeout: site.timeout.seconds, upstreamTls: https ? UPSTREAM_TLS : NONE, preserveHost: !https };
}
