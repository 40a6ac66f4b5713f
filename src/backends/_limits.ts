// Limits of the servers themselves, checked before rendering so they surface as positioned
// errors rather than as a config the server refuses. Each backend states its own limit (in its
// folder); this is the shared walk over the planned documents.
import type { Diagnostic, LoadedSite, Plan } from "../types.js";
import { diagnostic, joinPath } from "../input/_diagnostics.js";

/** A limit on how long a well-known document may be once quoted for one backend's config. */
export interface DocumentLimit {
  /** quote writes the document as the config holds it. */
  quote(body: string): string;
  /** The longest quoted text the server reads. */
  max: number;
  /** At most how many characters quoting makes of one (bodies up to max / growth are not quoted to measure). */
  growth: number;
  /** Why, and what to do: "nginx reads no longer token; … render without --backend nginx". */
  why: string;
  /** For the message: "for nginx". */
  server: string;
}

/** documentLimits reports well-known documents too long for a backend to inline. */
export function documentLimits(loaded: LoadedSite, plan: Plan, limit: DocumentLimit): Diagnostic[] {
  const out: Diagnostic[] = [];
  const fits = (limit.max - 2) / limit.growth;
  for (const site of plan.sites) {
    for (const doc of site.wellKnown) {
      if (doc.body.length <= fits) continue;
      const length = limit.quote(doc.body).length;
      if (length <= limit.max) continue;
      const path = longestString(loaded.value, `sites[${site.index}].well_known.${doc.name}`);
      out.push(diagnostic(loaded, path, `makes the ${doc.name} document ${length} bytes once quoted ${limit.server} (expected at most ${limit.max}: ${limit.why})`));
    }
  }
  return out;
}

// --- internal ---

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
