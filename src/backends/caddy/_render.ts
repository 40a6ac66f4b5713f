// Caddy 2.6: one complete Caddyfile for every site in the file. The view is built for thousands
// of sites at a time: one object literal per block, escaped constants computed once.
import type { Plan, RenderedFile, SitePlan } from "../../types.js";
import { CORS_HEADERS, httpsAuthority, provenance } from "../_shared.js";
import { caddyToken } from "./_escape.js";
import { template } from "../_templates.js";

/** renderCaddy renders `caddy/Caddyfile`. */
export function renderCaddy(plan: Plan): RenderedFile[] {
  const blocks: Block[] = [];
  for (const site of plan.sites) siteBlocks(site, blocks);
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

interface Block {
  comment: string;
  addresses: string;
  tls: string[];
  redirect: string | null;
  documents: { path: string; headers: { name: string; value: string }[]; body: string }[];
  wellKnown404: boolean;
  notFound: boolean;
  proxy: { maxBytes: number; target: string; transport: string[]; timeout: string } | null;
}

const HEADERS = CORS_HEADERS.map(([name, value]) => ({ name, value: caddyToken(value) }));
const NONE: never[] = [];

/** siteBlocks appends the site's blocks to `blocks` (one object literal each, no spreads). */
function siteBlocks(site: SitePlan, blocks: Block[]): void {
  const tls = site.tls.kind === "files" ? [`${caddyToken(site.tls.cert)} ${caddyToken(site.tls.key)}`] : site.tls.email ? [caddyToken(site.tls.email)] : NONE;
  const documents: Block["documents"] = [];
  for (const d of site.wellKnown) documents.push({ path: d.path, headers: HEADERS, body: caddyToken(d.body) });
  const https = site.listen.https;
  if (!site.sameHost) {
    blocks.push({ comment: `Well-known documents for ${site.serverName}.`, addresses: `https://${site.serverName}:${https}`, tls, redirect: null, documents, wellKnown404: true, notFound: true, proxy: null });
  }
  const fed = site.federationListener;
  blocks.push({
    comment: site.sameHost ? `Well-known documents and homeserver on ${site.host}.` : `Homeserver ${site.host}.`,
    addresses: fed ? `https://${site.host}:${https}, https://${site.host}:${fed}` : `https://${site.host}:${https}`,
    tls,
    redirect: null,
    documents: site.sameHost ? documents : NONE,
    wellKnown404: true,
    notFound: false,
    proxy: proxy(site),
  });
  const http = site.listen.http;
  if (http !== null) {
    blocks.push({
      comment: "Plain HTTP only redirects to HTTPS.",
      addresses: site.sameHost ? `http://${site.serverName}:${http}` : `http://${site.serverName}:${http}, http://${site.host}:${http}`,
      tls: NONE,
      redirect: `https://${httpsAuthority(site, "{host}")}{uri}`,
      documents: NONE,
      wellKnown404: false,
      notFound: false,
      proxy: null,
    });
  }
}

function proxy(site: SitePlan): Block["proxy"] {
  const u = site.upstream;
  const transport = u.kind === "tcp" && u.scheme === "https" && !u.hostIsIp ? [`tls_server_name ${u.host}`] : NONE;
  const target = u.kind === "unix" ? caddyToken(`unix/${u.path}`) : u.scheme === "https" ? u.url : u.authority;
  return { maxBytes: site.maxUpload.bytes, target, transport, timeout: `${site.timeout.seconds}s` };
}
