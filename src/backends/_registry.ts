// The list of backend plug-ins. `--backend` choices, `compare` columns, validation's backend
// refusals and the render order all come from here; adding a backend is one line below.
import type { Backend } from "./_backend.js";
import { nginx } from "./nginx/index.js";
import { apache } from "./apache/index.js";
import { caddy } from "./caddy/index.js";
import { traefik } from "./traefik/index.js";

/** Every backend, in the order they are rendered and reported. */
export const PLUGINS = [nginx, apache, caddy, traefik] as const;

/** Names of the supported backends. */
export type BackendName = (typeof PLUGINS)[number]["name"];

/** All backend names, in the order they are rendered and reported. */
export const BACKENDS: BackendName[] = PLUGINS.map((b) => b.name);

/** plugins returns the plug-ins of `names` (all by default), in registry order. */
export function plugins(names?: readonly string[]): Backend<BackendName>[] {
  return names ? PLUGINS.filter((b) => names.includes(b.name)) : [...PLUGINS];
}
