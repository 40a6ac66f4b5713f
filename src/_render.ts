// Stage 4: Plan → files in memory, per backend, plus the well-known documents themselves.
import type { BackendName, Plan, RenderedFile, RenderOptions } from "./types.js";
import { renderNginx } from "./backends/nginx.js";
import { renderApache } from "./backends/apache.js";
import { renderCaddy } from "./backends/caddy.js";
import { renderTraefik } from "./backends/traefik.js";

/** All backends, in the order they are rendered and reported. */
export const BACKENDS: BackendName[] = ["nginx", "apache", "caddy", "traefik"];

const RENDERERS: Record<BackendName, (plan: Plan) => RenderedFile[]> = {
  nginx: renderNginx,
  apache: renderApache,
  caddy: renderCaddy,
  traefik: renderTraefik,
};

/** renderPlan renders the chosen backends (all by default) and the well-known documents. */
export function renderPlan(plan: Plan, options: RenderOptions = {}): RenderedFile[] {
  const chosen = BACKENDS.filter((b) => (options.backends ?? BACKENDS).includes(b));
  const files = chosen.flatMap((b) => RENDERERS[b](plan));
  for (const site of plan.sites) {
    for (const doc of site.wellKnown) {
      files.push({ path: `well-known/${site.serverName}${doc.path}`, backend: "well-known", contents: doc.body });
    }
  }
  return files;
}

/** renderBackend renders one backend's files (no well-known documents). */
export function renderBackend(plan: Plan, backend: BackendName): RenderedFile[] {
  return RENDERERS[backend](plan);
}
