// Limits of the servers themselves, checked before rendering so they surface as positioned
// errors rather than as a config the server refuses.
import type { BackendName, Diagnostic, LoadedSite, Plan } from "../types.js";
import { diagnostic, joinPath } from "../input/_diagnostics.js";
import { apacheString, nginxString } from "./_escape.js";

/** nginx reads at most 4096 bytes into one token (NGX_CONF_BUFFER). */
const NGINX_TOKEN = 4096;
/** Apache reads config lines of at most 8192 bytes (MAX_STRING_LEN), directive included. */
const APACHE_LINE = 8192 - "        ErrorDocument 200 ".length - 2;

/** longestString finds the path of the longest string under `path` of the input (the likely culprit). */
function longestString(root: unknown, path: string): string {
  const m = /^sites\[(\d+)\]\.well_known\.(\w+)$/.exec(path)!;
  const start = (root as { sites?: { well_known?: Record<string, unknown> }[] }).sites?.[Number(m[1])]?.well_known?.[m[2]!];
  let best = { path, length: -1 };
  const walk = (v: unknown, p: string) => {
    if (typeof v === "string" && v.length > best.length) best = { path: p, length: v.length };
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, joinPath(p, i)));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, joinPath(p, k));
  };
  walk(start, path);
  return best.path;
}

/** documentLimits reports well-known documents too large for a chosen backend to inline. */
export function documentLimits(loaded: LoadedSite, plan: Plan, backends: BackendName[] = ["nginx", "apache", "caddy", "traefik"]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const useNginx = backends.includes("nginx");
  const useApache = backends.includes("apache");
  // Quoting at most doubles a body for nginx (\\, \') and quadruples it for Apache (\ becomes
  // \\\\), plus the two quotes: a body within both bounds needs no quoting to be measured.
  const fits = Math.min(useNginx ? (NGINX_TOKEN - 2 - 2) / 2 : Infinity, useApache ? (APACHE_LINE - 2) / 4 : Infinity);
  for (const site of plan.sites) {
    for (const doc of site.wellKnown) {
      if (doc.body.length <= fits) continue;
      const nginx = useNginx ? nginxString(doc.body).length : 0;
      const apache = useApache ? apacheString(doc.body, { expr: true }).length : 0;
      if (nginx <= NGINX_TOKEN - 2 && apache <= APACHE_LINE) continue;
      const path = longestString(loaded.value, `sites[${site.index}].well_known.${doc.name}`);
      if (nginx > NGINX_TOKEN - 2) out.push(diagnostic(loaded, path, `makes the ${doc.name} document ${nginx} bytes once quoted for nginx (expected at most ${NGINX_TOKEN - 2}: nginx reads no longer token; shorten it or render without --backend nginx)`));
      if (apache > APACHE_LINE) out.push(diagnostic(loaded, path, `makes the ${doc.name} document ${apache} bytes once quoted for Apache (expected at most ${APACHE_LINE}: Apache reads no longer config line; shorten it or render without --backend apache)`));
    }
  }
  return out;
}
