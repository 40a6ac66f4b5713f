// Compiles the Handlebars templates in templates/ to plain JavaScript functions at build time
// (scripts/build.mjs writes the result to src/_generated/templates.ts). Handlebars is only the
// parser: its runtime allocated a location object per {{value}}, an options object per helper
// call and a frame per partial, which made rendering 10,000 sites take seconds.
//
// Semantics: the same output as Handlebars 4.7 with { noEscape: true, strict: true, data: false,
// knownHelpersOnly: true, preventIndent: false } and the partials of the template's backend
// registered under their file names, for the subset below; anything else fails the build with
// the template's file, line and column.
//
// - Text: ContentStatement values as Handlebars.parse left them (whitespace control and
//   standalone lines already stripped). Comments print nothing.
// - {{path}} (`name`, `a.b`, `this.name`, `./name`) and {{this}}: strict lookup. The last name
//   must exist (`name in obj`, so inherited properties count) or rendering throws
//   `"name" not defined in OBJ - LINE:COL (templates/FILE.hbs)`; names before it are read
//   plainly (a missing one makes the last lookup throw). A function value is called with the
//   context as `this` (Handlebars' lambdas). null and undefined print "", anything else is
//   joined with JavaScript `+`, as Handlebars does (so two adjacent numbers add up: {{a}}{{b}}).
// - {{#if path}}…{{else}}…{{/if}} (also {{else if …}}): the parameter is read without the strict
//   check (missing: false). A function is called first. False for every falsy value (0 included)
//   and for empty arrays. The branch renders with the same context.
// - {{#each path}}…{{/each}}: arrays only. Each item (holes skipped) is the context of one
//   rendering of the body; a falsy or non-object value renders nothing; a function is called
//   first; any other object (Map, plain object, iterable) throws at render time.
// - {{> _partial}} and {{> _partial path}}: the backend's `_partial.hbs` rendered with the
//   current context, or with the parameter (read without the strict check), passed as is.
// - Names that live on Object.prototype or Array.prototype (`constructor`, `toString`, `map`…)
//   are refused: Handlebars hides inherited members of those (prototype access control) and we
//   read `obj[name]` directly, which is the same value for own properties of plain views.
// Refused: {{{triple}}} and {{& x}}, helpers other than #if/#each, hash arguments, literals and
// subexpressions, @data (@index…), ../ paths, block parameters (as |x|), {{^inverse}} sections,
// {{#each}}…{{else}}, `this` as a block parameter, partial blocks, dynamic partials, partials
// with hash arguments or more than one parameter, standalone partials with indentation before
// them (Handlebars would indent every line of the partial), decorators.
import Handlebars from "handlebars";

const KNOWN_HELPERS = new Set(["if", "unless", "each", "with", "log", "lookup", "helperMissing", "blockHelperMissing"]);
const INHERITED = new Set([...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Array.prototype)].filter((n) => n !== "length"));

/**
 * compileTemplates compiles `{ name: "nginx/site.conf", source }` entries (partials are the
 * names whose file part starts with "_") to the text of an ES module exporting `templates`,
 * an object from each non-partial name to a function `(view) => string`. The text is plain
 * JavaScript (also valid TypeScript under // @ts-nocheck).
 */
export function compileTemplates(entries) {
  const names = new Set(entries.map((e) => e.name));
  const functions = [];
  const exported = [];
  const fnNames = new Set();
  for (const { name, source } of entries) {
    if (fnNames.has(fnName(name))) throw new Error(`build: templates/${name}.hbs: its name clashes with another template's once made an identifier`);
    fnNames.add(fnName(name));
    const compiler = new TemplateCompiler(name, names);
    const ast = Handlebars.parse(source);
    const body = compiler.program(ast);
    functions.push(`/** templates/${name}.hbs */\nfunction ${fnName(name)}(c) {\n  return ${body};\n}`, ...compiler.extra);
    if (!isPartial(name)) exported.push(`  ${JSON.stringify(name)}: (view) => "" + ${fnName(name)}(view),`);
  }
  return [RUNTIME, ...functions, "export const templates = {", ...exported, "};", ""].join("\n");
}

// --- internal ---

const RUNTIME = `// A rendered file is a rope of hundreds of pieces (V8 cons strings); reading a character makes
// V8 flatten it into one string, so the pieces die young instead of being copied by every
// young-generation GC for as long as the file lives. Done here for each item of a long outer
// #each (one Caddyfile holds every site: its rope would live until the end). Whole files are
// flattened by whoever keeps them (renderPlan); a file written at once is flattened by the
// write itself, and a second copy would only cost time. Short loops are left alone: each
// flattening is a call into the runtime and a copy.
function $flat(s) {
  if (typeof s === "string") s.charCodeAt(0);
  return s;
}
// Strict lookup: the name must exist on the context (Handlebars' container.strict).
function $get(o, k, at) {
  if (!o || !(k in o)) throw new Error('"' + k + '" not defined in ' + o + " - " + at);
  return o[k];
}
// A value printed: functions are called with the context, null and undefined print "".
function $out(v, c) {
  if (typeof v === "function") v = v.call(c);
  return v != null ? v : "";
}
// #if: false for falsy values (0 too) and empty arrays.
function $if(v, c) {
  if (typeof v === "function") v = v.call(c);
  return !(!v || (Array.isArray(v) && v.length === 0));
}
// #each over an array: the body rendered with each item (holes skipped) as its context.
function $each(v, c, body, at, outer) {
  if (typeof v === "function") v = v.call(c);
  let r = "";
  if (!v || typeof v !== "object") return r;
  if (!Array.isArray(v)) throw new Error("#each over a value that is not an array - " + at);
  if (outer && v.length > 64) {
    for (let i = 0; i < v.length; i++) if (i in v) r = r + $flat(body(v[i]));
  } else {
    for (let i = 0; i < v.length; i++) if (i in v) r = r + body(v[i]);
  }
  return r;
}
`;

class TemplateCompiler {
  constructor(name, names) {
    this.name = name;
    this.file = `templates/${name}.hbs`;
    this.backend = name.slice(0, name.indexOf("/") + 1);
    this.names = names;
    this.extra = [];
    this.count = 0;
    this.eachDepth = 0;
  }

  /** program returns a JavaScript expression for a Program node, with the context in `c`. */
  program(node) {
    const parts = [];
    for (const s of node.body) {
      const expr = this.statement(s);
      if (expr === null) continue;
      // Adjacent text becomes one literal (string + string is the same whatever came before).
      const last = parts[parts.length - 1];
      if (expr.text !== undefined && last?.text !== undefined) last.text += expr.text;
      else parts.push(expr);
    }
    if (parts.length === 0) return '""';
    return parts.map((p) => (p.text !== undefined ? JSON.stringify(p.text) : p.code)).join(" + ");
  }

  statement(s) {
    switch (s.type) {
      case "ContentStatement":
        return s.value === "" ? null : { text: s.value };
      case "CommentStatement":
        return null;
      case "MustacheStatement":
        return { code: this.mustache(s) };
      case "BlockStatement":
        return { code: this.block(s) };
      case "PartialStatement":
        return { code: this.partial(s) };
      default:
        this.fail(s, `${s.type} is not supported`);
    }
  }

  mustache(s) {
    if (!s.escaped) this.fail(s, "{{{…}}} and {{& …}} are not supported (every template prints values as they are)");
    if (s.params.length > 0 || s.hash) this.fail(s, `helper call {{${this.show(s.path)} …}} is not supported`);
    this.checkPath(s.path);
    const { parts } = s.path;
    if (parts.length === 0) return `$out(c, c)`;
    if (parts.length === 1 && KNOWN_HELPERS.has(parts[0]) && s.path.original === parts[0]) this.fail(s, `{{${parts[0]}}} names a Handlebars helper`);
    const at = `${s.path.loc.start.line}:${s.path.loc.start.column} (${this.file})`;
    return `$out($get(${access("c", parts.slice(0, -1))}, ${JSON.stringify(parts[parts.length - 1])}, ${JSON.stringify(at)}), c)`;
  }

  block(s) {
    const helper = s.path.type === "PathExpression" && s.path.original;
    if (helper !== "if" && helper !== "each") this.fail(s, `block {{#${this.show(s.path)}}} is not supported (only #if and #each)`);
    if (s.params.length !== 1) this.fail(s, `{{#${helper}}} takes exactly one parameter`);
    if (s.hash) this.fail(s, `{{#${helper}}} takes no hash arguments`);
    if (!s.program) this.fail(s, `{{^${helper}}} sections are not supported`);
    if (s.program.blockParams) this.fail(s, "block parameters (as |x|) are not supported");
    const param = s.params[0];
    this.checkPath(param);
    if (param.parts.length === 0) this.fail(param, `\`this\` as the parameter of {{#${helper}}} is not supported`);
    const value = access("c", param.parts);
    if (helper === "if") {
      const inverse = s.inverse ? this.program(s.inverse) : '""';
      return `($if(${value}, c) ? (${this.program(s.program)}) : (${inverse}))`;
    }
    if (s.inverse) this.fail(s, "{{else}} in {{#each}} is not supported");
    const body = `${fnName(this.name)}$${++this.count}`;
    const slot = this.extra.push("") - 1; // in template order, nested bodies after this one
    const outer = this.eachDepth === 0 && !isPartial(this.name);
    this.eachDepth++;
    const chain = this.program(s.program);
    this.eachDepth--;
    this.extra[slot] = `/** templates/${this.name}.hbs:${s.loc.start.line}: #each ${param.original} */\nfunction ${body}(c) {\n  return ${chain};\n}`;
    return `$each(${value}, c, ${body}, ${JSON.stringify(`${s.loc.start.line}:${s.loc.start.column} (${this.file})`)}, ${outer})`;
  }

  partial(s) {
    if (s.name.type !== "PathExpression" || s.name.parts.length !== 1) this.fail(s, "dynamic partials are not supported");
    if (s.hash) this.fail(s, "partial hash arguments are not supported");
    if (s.params.length > 1) this.fail(s, "a partial takes at most one context parameter");
    if (s.indent) this.fail(s, `partial {{> ${s.name.original}}} is indented: start its line with {{> (indentation would be copied into every line)`);
    const target = this.backend + s.name.original;
    if (!isPartial(target) || !this.names.has(target)) this.fail(s, `no partial templates/${target}.hbs (partials start with _ and sit beside the template)`);
    let context = "c";
    if (s.params.length === 1) {
      this.checkPath(s.params[0]);
      context = access("c", s.params[0].parts);
    }
    return `("" + ${fnName(target)}(${context}))`;
  }

  checkPath(p) {
    if (p.type !== "PathExpression") this.fail(p, `${p.type} is not supported (only names and this)`);
    if (p.data) this.fail(p, `@data variables (@${p.parts.join(".")}) are not supported`);
    if (p.depth > 0 || p.original.startsWith("../")) this.fail(p, `parent paths (${p.original}) are not supported`);
    for (const part of p.parts) {
      if (INHERITED.has(part)) this.fail(p, `"${part}" is a member of Object.prototype or Array.prototype; rename the view property`);
    }
  }

  show(path) {
    return path.original ?? path.type;
  }

  fail(node, message) {
    const loc = node.loc ? `:${node.loc.start.line}:${node.loc.start.column}` : "";
    throw new Error(`build: ${this.file}${loc}: ${message}`);
  }
}

function isPartial(name) {
  return name.slice(name.indexOf("/") + 1).startsWith("_");
}

function fnName(name) {
  return `t_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** access reads `names` one after another from `base`, without the strict check. */
function access(base, names) {
  return names.reduce((e, n) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n) ? `${e}.${n}` : `${e}[${JSON.stringify(n)}]`), base);
}
