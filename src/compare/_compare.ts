// `mxproxy compare`: each Plan feature × each backend, with the directive that implements it.
import type { BackendName, Plan, SitePlan } from "../types.js";
import { options, wellKnownMode } from "../backends/traefik/index.js";

/** How a backend provides a feature: by itself, with something outside it, or not at all. */
export type Support = "yes" | "external" | "no" | "n/a";

/** One feature of one site, across backends. */
export interface CompareRow {
  site: string;
  feature: string;
  plan: string;
  backends: Record<BackendName, { support: Support; how: string }>;
}

/** compare builds the behaviour matrix for every site of a plan. */
export function compare(plan: Plan): CompareRow[] {
  return plan.sites.flatMap((site) => rows(plan, site));
}

// --- internal ---

function rows(plan: Plan, site: SitePlan): CompareRow[] {
  const t = options(plan, site);
  const staticMode = wellKnownMode(t) === "static";
  const traefikWk = staticMode
    ? { support: "external" as const, how: `static file server at ${t.static_url} (not started by mxproxy)` }
    : { support: "external" as const, how: "routed to the homeserver, which must serve the documents itself" };
  const row = (feature: string, planText: string, b: Record<BackendName, [Support, string]>): CompareRow => ({
    site: site.serverName,
    feature,
    plan: planText,
    backends: Object.fromEntries(Object.entries(b).map(([k, [support, how]]) => [k, { support, how }])) as CompareRow["backends"],
  });
  const out: CompareRow[] = [];
  for (const d of site.wellKnown) {
    out.push(row(`well-known ${d.name}`, `${d.path} (${d.body.length} bytes)`, {
      nginx: ["yes", "location = … { default_type application/json; return 200 '…'; }"],
      apache: ["yes", "<LocationMatch> ErrorDocument 200 \"…\" + RewriteRule [R=200]"],
      caddy: ["yes", "handle … { respond `…` 200 }"],
      traefik: [traefikWk.support, traefikWk.how],
    }));
  }
  const missing = ["client", "server", "support"].filter((n) => !site.wellKnown.some((d) => d.name === n));
  if (missing.length > 0) {
    out.push(row("well-known not served", missing.map((n) => `/.well-known/matrix/${n}`).join(", ") + " → 404", {
      nginx: ["yes", "location ^~ /.well-known/matrix/ { return 404; }"],
      apache: ["yes", "<Location /.well-known/matrix/> RewriteRule [R=404]"],
      caddy: ["yes", "handle /.well-known/matrix/* { respond 404 }"],
      traefik: staticMode ? ["yes", "the static server has no such file: 404"] : ["no", "the homeserver decides what it answers"],
    }));
  }
  out.push(row("CORS on well-known", "Access-Control-Allow-Origin: *", { nginx: ["yes", "add_header … always"], apache: ["yes", "Header always set"], caddy: ["yes", "header"], traefik: ["yes", "headers.customResponseHeaders"] }));
  const target = site.upstream.kind === "unix" ? `unix:${site.upstream.path}` : site.upstream.url;
  out.push(row("proxy target", `${site.host} → ${target}`, {
    nginx: ["yes", "proxy_pass (no URI part)"],
    apache: ["yes", "ProxyPass / … nocanon"],
    caddy: ["yes", "reverse_proxy"],
    traefik: site.upstream.kind === "unix" ? (t.upstream ? ["yes", `loadBalancer to ${t.upstream} (backends.traefik.upstream)`] : ["no", "Traefik cannot dial a unix socket"]) : ["yes", "loadBalancer.servers"],
  }));
  out.push(row("encoded paths", "raw request target reaches the homeserver", { nginx: ["yes", "proxy_pass without URI, merge_slashes off"], apache: ["yes", "AllowEncodedSlashes NoDecode + nocanon"], caddy: ["yes", "reverse_proxy passes the raw target"], traefik: ["yes", "entry point encodedCharacters allow*, sanitizePath: false"] }));
  out.push(row("forwarded headers", "Host kept; X-Forwarded-For = client; X-Forwarded-Proto: https", { nginx: ["yes", "proxy_set_header"], apache: ["yes", "ProxyPreserveHost on; RequestHeader"], caddy: ["yes", "built in (incoming ones not trusted)"], traefik: ["yes", "passHostHeader; built in"] }));
  out.push(row("body limit", `${site.maxUpload.text} (${site.maxUpload.bytes} bytes) → 413 before the upstream`, { nginx: ["yes", "client_max_body_size"], apache: ["yes", "RewriteCond Content-Length -gt … [R=413] + LimitRequestBody"], caddy: ["yes", "expression matcher on Content-Length → 413, request_body max_size"], traefik: ["yes", "buffering.maxRequestBodyBytes"] }));
  out.push(row("upstream timeout", `${site.timeout.seconds}s for response headers`, { nginx: ["yes", "proxy_read_timeout"], apache: ["yes", "ProxyPass timeout="], caddy: ["yes", "transport http response_header_timeout"], traefik: ["yes", "serversTransport forwardingTimeouts.responseHeaderTimeout"] }));
  out.push(row("federation listener", site.federationListener ? `${site.host}:${site.federationListener}` : "none (federation on the HTTPS port)", {
    nginx: site.federationListener ? ["yes", `listen ${site.federationListener} ssl`] : ["n/a", ""],
    apache: site.federationListener ? ["yes", `<VirtualHost *:${site.federationListener}> (Listen ${site.federationListener} in ports.conf)`] : ["n/a", ""],
    caddy: site.federationListener ? ["yes", `site address https://${site.host}:${site.federationListener}`] : ["n/a", ""],
    traefik: site.federationListener ? ["yes", "federation entry point"] : ["n/a", ""],
  }));
  const redirect = site.listen.http === null ? "off" : `http://…:${site.listen.http} → https (301, path and query kept)`;
  const r = site.listen.http === null ? (["n/a", ""] as [Support, string]) : null;
  out.push(row("HTTP redirect", redirect, { nginx: r ?? ["yes", "return 301 https://…$request_uri"], apache: r ?? ["yes", "RewriteRule … [R=301,NE]"], caddy: r ?? ["yes", "redir … permanent"], traefik: r ?? ["yes", "redirectScheme middleware"] }));
  const tls = site.tls.kind === "files" ? "certificate files" : "ACME";
  out.push(row("TLS source", tls, {
    nginx: site.tls.kind === "files" ? ["yes", "ssl_certificate"] : ["external", "certbot (/etc/letsencrypt/live/NAME/)"],
    apache: site.tls.kind === "files" ? ["yes", "SSLCertificateFile"] : ["external", "certbot (/etc/letsencrypt/live/NAME/)"],
    caddy: site.tls.kind === "files" ? ["yes", "tls CERT KEY"] : ["yes", "automatic HTTPS"],
    traefik: site.tls.kind === "files" ? ["yes", "tls.certificates"] : ["yes", "certificatesResolvers"],
  }));
  out.push(row("unknown hosts", "never reach the homeserver", { nginx: ["yes", "if ($host != …) { return 421; }"], apache: ["yes", "RewriteCond %{HTTP_HOST} … [R=421]"], caddy: ["yes", "strict_sni_host; host-matched sites"], traefik: ["yes", "Host() rules; no match → 404"] }));
  return out;
}
