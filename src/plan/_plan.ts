// Stage 3: validated input → Plan. Every default and derived value is decided here, once, so
// all backends (and the conformance probes) work from the same facts.
import type { Plan, SiteFileInput, SiteInput, SitePlan, TlsPlan, Upstream, WellKnownDocument } from "../types.js";
import { canonicalJson } from "./_json.js";
import { sha256Stream } from "./_sha256.js";
import { asciiHost, mergeSite, parseDuration, parseSize, parseUpstream } from "../input/_values.js";
import { VERSION } from "./_version.js";

/** planSite builds the Plan for a validated site file. `source` is the input's file name. */
export function planSite(input: SiteFileInput, source: string): Plan {
  const sites = input.sites.map((raw, index) => planOne(mergeSite(input.defaults, raw), index));
  const backends = input.backends ?? {};
  const hash = planHash(sites, backends);
  return { generator: `mxproxy ${VERSION}`, source: baseName(source), hash, sites, backends };
}

// --- internal ---

function planOne(site: SiteInput, index: number): SitePlan {
  const hs = site.homeserver!;
  const serverName = asciiHost(site.server_name);
  const host = asciiHost(hs.host!);
  const https = site.listen?.https ?? 443;
  const http = site.listen?.http === false ? null : site.listen?.http ?? 80;
  const fedPort = site.federation?.port ?? 443;
  const maxUpload = String(hs.max_upload ?? "50M");
  const timeout = String(hs.timeout ?? "600s");

  const wellKnown: WellKnownDocument[] = [];
  const client = site.well_known?.client;
  if (client == null) {
    wellKnown.push(doc("client", { "m.homeserver": { base_url: `https://${host}${https === 443 ? "" : `:${https}`}` } }));
  } else if (client !== false) {
    const { base_url, ...extra } = client;
    const baseUrl = base_url ?? `https://${host}${https === 443 ? "" : `:${https}`}`;
    wellKnown.push(doc("client", { "m.homeserver": { base_url: baseUrl }, ...extra }));
  }
  const server = site.well_known?.server;
  const federationTarget = server === false ? null : server ?? `${host}:${fedPort}`;
  if (federationTarget !== null) wellKnown.push(doc("server", { "m.server": federationTarget }));
  if (site.well_known?.support) wellKnown.push(doc("support", site.well_known.support));

  const tls: TlsPlan = site.tls && "cert" in site.tls ? { kind: "files", cert: site.tls.cert, key: site.tls.key } : site.tls?.acme.email ? { kind: "acme", email: site.tls.acme.email } : { kind: "acme" };
  return {
    index,
    serverName,
    host,
    sameHost: serverName === host,
    upstream: parseUpstream(hs.upstream!) as Upstream,
    maxUpload: { text: maxUpload, bytes: parseSize(maxUpload) },
    timeout: { text: timeout, seconds: parseDuration(timeout) },
    wellKnown,
    federationTarget,
    // Federation needs its own listener only when its port is not the HTTPS port already served.
    federationListener: site.federation?.port !== undefined && site.federation.port !== https ? site.federation.port : null,
    listen: { https, http },
    tls,
    backends: site.backends ?? {},
  };
}

/**
 * planHash is the SHA-256 of JSON.stringify({ sites, backends }), written and hashed a batch of
 * sites at a time: the same bytes without one string of the whole plan (≈1 KB per site).
 */
function planHash(sites: SitePlan[], backends: Plan["backends"]): string {
  const hash = sha256Stream();
  hash.update('{"sites":[');
  for (let i = 0; i < sites.length; i += HASH_BATCH) {
    // JSON.stringify of the batch, less its brackets: the sites separated by commas.
    const batch = JSON.stringify(sites.slice(i, i + HASH_BATCH));
    if (i > 0) hash.update(",");
    hash.update(batch.slice(1, -1));
  }
  hash.update(`],"backends":${JSON.stringify(backends)}}`);
  return hash.hex().slice(0, 16);
}

const HASH_BATCH = 256;

function doc(name: WellKnownDocument["name"], json: unknown): WellKnownDocument {
  return { name, path: DOC_PATHS[name], json, body: canonicalJson(json) };
}

const DOC_PATHS = { client: "/.well-known/matrix/client", server: "/.well-known/matrix/server", support: "/.well-known/matrix/support" };

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
