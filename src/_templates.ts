// Precompiled Handlebars templates (scripts/build.mjs compiles templates/ at build time with
// noEscape and strict, so the runtime needs only handlebars/runtime and never parses templates).
import HandlebarsRuntime from "handlebars/runtime.js";
import { specs, partials } from "./_generated/templates.js";

type Render = (view: object) => string;

// The runtime build has the full library's runtime API; its typings do not say so.
const Handlebars = HandlebarsRuntime as unknown as typeof import("handlebars");

const cache = new Map<string, Render>();

/** template returns the renderer for `templates/<name>.hbs` (e.g. `nginx/site.conf`). */
export function template(name: string): Render {
  let fn = cache.get(name);
  if (fn) return fn;
  // One environment per template, so each backend's partials (_tls, _proxy) keep short names.
  const backend = name.slice(0, name.indexOf("/") + 1);
  const env = Handlebars.create();
  for (const [key, spec] of Object.entries(partials)) {
    if (key.startsWith(backend)) env.registerPartial(key.slice(backend.length), env.template(spec));
  }
  const spec = specs[name];
  if (!spec) throw new Error(`internal: no template ${name}`);
  const compiled = env.template(spec);
  fn = (view: object) => compiled(view, { allowProtoPropertiesByDefault: false });
  cache.set(name, fn);
  return fn;
}
