// The interface every backend plug-in implements. A backend is one folder under src/backends/
// (renderer, escaping, view, limits, compare cells) exporting one object of this type; the
// registry (_registry.ts) lists them. Nothing outside the registry imports a backend's files.
import type { Diagnostic, LoadedSite, Plan, RenderedFile, SiteFileInput, SiteInput, SitePlan } from "../types.js";

/** How a backend provides a feature: by itself, with something outside it, or not at all. */
export type Support = "yes" | "external" | "no" | "n/a";

/** One cell of the compare matrix: support and the directive (or reason) behind it. */
export type Cell = [Support, string];

/**
 * The features `mxproxy compare` shows, one row each (src/compare/_compare.ts titles them).
 * A backend must fill every one: a new feature is a compile error until every backend says how.
 */
export type FeatureId =
  | "well-known"
  | "well-known-unserved"
  | "cors"
  | "proxy-target"
  | "encoded-paths"
  | "forwarded"
  | "body-limit"
  | "timeout"
  | "federation-listener"
  | "redirect"
  | "tls-source"
  | "unknown-hosts";

/** Reports a refusal at a JSON path of the input (`prefer: "key"` points at the key, not the value). */
export type Report = (path: string, message: string, prefer?: "key" | "value") => void;

/** What a backend's input checks see of one site. */
export interface SiteCheck {
  input: SiteFileInput;
  /** The site as written (without defaults). */
  raw: SiteInput;
  /** The site with `defaults` merged under it. */
  site: SiteInput;
  /** `sites[N]`. */
  at: string;
  /** Where a merged value came from: the site's own key or `defaults…` (for messages). */
  source(path: string): string;
  err: Report;
}

/** A backend plug-in. */
export interface Backend<Name extends string = string> {
  /** The name in `--backend`, `compare` and the output folder `out/<name>/`. */
  name: Name;
  /** The server and the versions the output is written for (README, compare legend). */
  title: string;
  /** render yields the backend's files, paths relative to --out, all under `<name>/`. */
  render(plan: Plan): Iterable<RenderedFile>;
  /** checkFile reports what this backend cannot render in the file as a whole (before planning). */
  checkFile?(input: SiteFileInput, err: Report): void;
  /** checkSite reports what this backend cannot render in one site (before planning). */
  checkSite?(c: SiteCheck): void;
  /** checkPlan reports limits the planned values exceed (document sizes once quoted, …). */
  checkPlan?(loaded: LoadedSite, plan: Plan): Diagnostic[];
  /** compare says how the backend implements each feature for one site. */
  compare(plan: Plan, site: SitePlan): Record<FeatureId, Cell>;
}
