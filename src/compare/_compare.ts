// `mxproxy compare`: each Plan feature × each backend, with the directive that implements it.
// The rows and their plan text are backend-neutral; each backend plug-in fills its own cells.
import type { BackendName, Plan, SitePlan } from "../types.js";
import type { Cell, FeatureId, Support } from "../backends/_backend.js";
import { plugins } from "../backends/_registry.js";

export type { Support };

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
  const cells = plugins().map((b) => [b.name, b.compare(plan, site)] as const);
  const row = (id: FeatureId, feature: string, planText: string): CompareRow => ({
    site: site.serverName,
    feature,
    plan: planText,
    backends: Object.fromEntries(cells.map(([name, c]) => { const [support, how]: Cell = c[id]; return [name, { support, how }]; })) as CompareRow["backends"],
  });
  const out: CompareRow[] = [];
  for (const d of site.wellKnown) out.push(row("well-known", `well-known ${d.name}`, `${d.path} (${d.body.length} bytes)`));
  const missing = ["client", "server", "support"].filter((n) => !site.wellKnown.some((d) => d.name === n));
  if (missing.length > 0) out.push(row("well-known-unserved", "well-known not served", missing.map((n) => `/.well-known/matrix/${n}`).join(", ") + " → 404"));
  out.push(row("cors", "CORS on well-known", "Access-Control-Allow-Origin: *"));
  const target = site.upstream.kind === "unix" ? `unix:${site.upstream.path}` : site.upstream.url;
  out.push(row("proxy-target", "proxy target", `${site.host} → ${target}`));
  out.push(row("encoded-paths", "encoded paths", "raw request target reaches the homeserver"));
  out.push(row("forwarded", "forwarded headers", "Host kept; X-Forwarded-For = client; X-Forwarded-Proto: https"));
  out.push(row("body-limit", "body limit", `${site.maxUpload.text} (${site.maxUpload.bytes} bytes) → 413 before the upstream`));
  out.push(row("timeout", "upstream timeout", `${site.timeout.seconds}s for response headers`));
  out.push(row("federation-listener", "federation listener", site.federationListener ? `${site.host}:${site.federationListener}` : "none (federation on the HTTPS port)"));
  out.push(row("redirect", "HTTP redirect", site.listen.http === null ? "off" : `http://…:${site.listen.http} → https (301, path and query kept)`));
  out.push(row("tls-source", "TLS source", site.tls.kind === "files" ? "certificate files" : "ACME"));
  out.push(row("unknown-hosts", "unknown hosts", "never reach the homeserver"));
  return out;
}
