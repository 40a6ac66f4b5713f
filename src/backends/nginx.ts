// nginx: one file of server blocks per site, to include inside http {}.
import type { Plan, RenderedFile, SitePlan } from "../types.js";
import { CORS_HEADERS, MOZILLA_INTERMEDIATE, hostNames, httpsAuthority, provenance, sizeText, tlsFiles } from "../_common.js";
import { nginxString } from "../_escape.js";
import { template } from "../_templates.js";

/** renderNginx renders `nginx/<server_name>.conf` for every site. */
export function renderNginx(plan: Plan): RenderedFile[] {
  const render = template("nginx/site.conf");
  return plan.sites.map((site) => ({
    path: `nginx/${site.serverName}.conf`,
    backend: "nginx",
    contents: render(view(plan, site)),
  }));
}

// --- internal ---

function view(plan: Plan, site: SitePlan) {
  const servers = [];
  const documents = site.wellKnown.map((d) => ({
    path: d.path,
    headers: CORS_HEADERS.map(([name, value]) => ({ name, value: nginxString(value) })),
    body: nginxString(d.body),
  }));
  const https = (port: number) => [`${port} ssl http2`, `[::]:${port} ssl http2`];
  if (!site.sameHost) {
    servers.push({
      ...base(site, site.serverName, https(site.listen.https)),
      comment: `Well-known documents for ${site.serverName}.`,
      documents,
      wellKnown404: true,
      notFound: true,
    });
  }
  const ports = [site.listen.https, ...(site.federationListener ? [site.federationListener] : [])];
  servers.push({
    ...base(site, site.host, ports.flatMap(https)),
    comment: site.sameHost ? `Well-known documents and homeserver on ${site.host}.` : `Homeserver ${site.host}${site.federationListener ? ` (clients and federation on ${site.federationListener})` : ""}.`,
    documents: site.sameHost ? documents : [],
    wellKnown404: true,
    proxy: proxy(site),
  });
  if (site.listen.http !== null) {
    for (const name of hostNames(site)) {
      servers.push({
        ...base(site, name, [`${site.listen.http}`, `[::]:${site.listen.http}`]),
        comment: `Plain HTTP on ${name} only redirects to HTTPS.`,
        tls: null,
        redirect: `https://${httpsAuthority(site, name)}$request_uri`,
        acmeWebroot: site.tls.kind === "acme",
      });
    }
  }
  // Debian's default server_names_hash_bucket_size (64) fits names of up to about 48 bytes.
  const longest = Math.max(...hostNames(site).map((n) => n.length));
  const longNames = longest > 48 ? (longest > 100 ? 512 : 128) : null;
  return { provenance: provenance(plan), serverName: site.serverName, host: site.host, upstreamText: upstreamText(site), longNames, servers };
}

function base(site: SitePlan, name: string, listens: string[]) {
  const files = tlsFiles(site, name);
  return {
    listens,
    serverName: name,
    hostCheck: nginxString(name),
    tls: { cert: nginxString(files.cert), key: nginxString(files.key), protocols: MOZILLA_INTERMEDIATE.protocols.join(" "), ciphers: MOZILLA_INTERMEDIATE.ciphers },
    redirect: null as string | null,
    acmeWebroot: false,
    documents: [] as unknown[],
    wellKnown404: false,
    notFound: false,
    proxy: null as unknown,
  };
}

function proxy(site: SitePlan) {
  const u = site.upstream;
  const upstreamTls: string[] = [];
  if (u.kind === "tcp" && u.scheme === "https") {
    // Verify the homeserver's certificate and send SNI, as Caddy and Traefik do by default.
    upstreamTls.push("proxy_ssl_server_name on", `proxy_ssl_name ${nginxString(u.host)}`, "proxy_ssl_verify on", "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt");
  }
  return {
    target: nginxString(u.kind === "unix" ? `http://unix:${u.path}` : u.url),
    maxUpload: sizeText(site),
    timeout: `${site.timeout.seconds}s`,
    upstreamTls,
  };
}

/** upstreamText describes the upstream in a comment (no newlines can reach it: validated). */
export function upstreamText(site: SitePlan): string {
  return site.upstream.kind === "unix" ? `unix:${site.upstream.path}` : site.upstream.url;
}
