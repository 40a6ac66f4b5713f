// The templates, compiled to plain functions by scripts/build.mjs (scripts/hbs-compile.mjs) from
// templates/*.hbs: rendering loads no Handlebars code at all.
import { templates } from "../_generated/templates.js";

export type Render = (view: object) => string;

const compiled = templates as Record<string, Render | undefined>;
let observer: ((name: string, view: object, output: string) => void) | undefined;

/** template returns the renderer for `templates/<name>.hbs` (e.g. `nginx/site.conf`). */
export function template(name: string): Render {
  const fn = compiled[name];
  if (!fn) throw new Error(`internal: no template ${name}`);
  const observe = observer;
  if (!observe) return fn;
  return (view) => {
    const output = fn(view);
    observe(name, view, output);
    return output;
  };
}

/**
 * observeTemplates makes every renderer obtained from `template` afterwards report each view it
 * renders and the output (test/templates.test.ts compares them with Handlebars); undefined stops.
 */
export function observeTemplates(fn: ((name: string, view: object, output: string) => void) | undefined): void {
  observer = fn;
}
