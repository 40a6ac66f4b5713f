// Caddy 2.6: one complete Caddyfile for every site in the file.
import type { Plan, RenderedFile, SitePlan } from "../types.js";
import { CORS_HEADERS, httpsAuthority, hostNames, provenance } from "../_common.js";
import { caddyToken } from "../_escape.js";
import { template } from "../_templates.js";

/** renderCaddy renders `caddy/Caddyfile`. */
export function renderCaddy(plan: Plan): RenderedFile[] {
  const blocks = plan.sites.flatMap((site) => siteBlocks(site));
  const httpPorts = [...new Set(plan.sites.map((s) => s.listen.http).filter((p): p is number => p !== null))].sort((a, b) => a - b);
  const view = {
    provenance: provenance(plan),
    names: plan.sites.map((s) => s.serverName).join(", "),
    blocks,
    catchAll: httpPorts.map((p) => `http://:${p}`),
    ports: globalPorts(plan),
  };
  return [{ path: "caddy/Caddyfile", backend: "caddy", contents: template("caddy/Caddyfile")(view) }];
}

// --- internal ---

/**
 * Caddy binds its HTTP port (80) for ACME and redirects even when no site uses it; http_port and
 * https_port move it to the site file's ports (one value each: the first site's).
 */
function globalPorts(plan: Plan): string[] {
  const first = plan.sites[0]!;
  const out: string[] = [];
  const http = first.listen.http ?? plan.sites.find((s) => s.listen.http !== null)?.listen.http;
  if (http !== undefined && http !== null && http !== 80) out.push(`http_port ${http}`);
  if (first.listen.https !== 443) out.push(`https_port ${first.listen.https}`);
  return out;
}

function siteBlocks(site: SitePlan) {
  const tls = site.tls.kind === "files" ? [`${caddyToken(site.tls.cert)} ${caddyToken(site.tls.key)}`] : site.tls.email ? [caddyToken(site.tls.email)] : [];
  const documents = site.wellKnown.map((d) => ({
    path: d.path,
    headers: CORS_HEADERS.map(([name, value]) => ({ name, value: caddyToken(value) })),
    body: caddyToken(d.body),
  }));
  const blank = { tls, redirect: null as string | null, documents: [] as unknown[], wellKnown404: false, notFound: false, proxy: null as unknown };
  const blocks = [];
  if (!site.sameHost) {
    blocks.push({ ...blank, comment: `Well-known documents for ${site.serverName}.`, addresses: `https://${site.serverName}:${site.listen.https}`, documents, wellKnown404: true, notFound: true });
  }
  const ports = [site.listen.https, ...(site.federationListener ? [site.federationListener] : [])];
  blocks.push({
    ...blank,
    comment: site.sameHost ? `Well-known documents and homeserver on ${site.host}.` : `Homeserver ${site.host}.`,
    addresses: ports.map((p) => `https://${site.host}:${p}`).join(", "),
    documents: site.sameHost ? documents : [],
    wellKnown404: true,
    proxy: proxy(site),
  });
  if (site.listen.http !== null) {
    blocks.push({
      ...blank,
      tls: [],
      comment: "Plain HTTP only redirects to HTTPS.",
      addresses: hostNames(site).map((n) => `http://${n}:${site.listen.http}`).join(", "),
      redirect: `https://${httpsAuthority(site, "{host}")}{uri}`,
    });
  }
  return blocks;
}

function proxy(site: SitePlan) {
  const u = site.upstream;
  const transport: string[] = [];
  if (u.kind === "tcp" && u.scheme === "https" && !u.hostIsIp) transport.push(`tls_server_name ${u.host}`);
  const target = u.kind === "unix" ? caddyToken(`unix/${u.path}`) : u.scheme === "https" ? u.url : u.authority;
  return { maxBytes: site.maxUpload.bytes, target, transport, timeout: `${site.timeout.seconds}s` };
}
