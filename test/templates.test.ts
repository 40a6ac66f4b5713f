// The templates are compiled to plain functions by scripts/hbs-compile.mjs. These tests render
// every view the backends build (fixtures and random site files) with those functions and with
// the Handlebars library (the .hbs sources, the options the project used before), and compare;
// then check the compiler's semantics on small templates and that it refuses what it does not
// support.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import fc from "fast-check";
import { compileSite, formatDiagnostic } from "../src/index.js";
import { observeTemplates } from "../src/backends/_templates.js";
import { compileTemplates } from "../scripts/hbs-compile.mjs";
import { fixtures, ROOT } from "./_fixtures.js";
import { toYamlText } from "./hostile/yaml-text.ts";

const OPTIONS = { noEscape: true, strict: true, data: false, knownHelpersOnly: true } as const;
const RUNS = Number(process.env.TEMPLATES_RUNS ?? 300);
const SEED = Number(process.env.TEMPLATES_SEED ?? 0x74706c);

type Render = (view: object) => string;

/** handlebarsTemplates compiles `name → source` with Handlebars, partials registered per backend. */
function handlebarsTemplates(sources: Map<string, string>): Map<string, Render> {
  const out = new Map<string, Render>();
  for (const [name, source] of sources) {
    if (isPartial(name)) continue;
    const backend = name.slice(0, name.indexOf("/") + 1);
    const env = Handlebars.create();
    for (const [p, s] of sources) if (p.startsWith(backend) && isPartial(p)) env.registerPartial(p.slice(backend.length), env.compile(s, OPTIONS));
    const compiled = env.compile(source, OPTIONS);
    out.set(name, (view) => compiled(view));
  }
  return out;
}

function isPartial(name: string): boolean {
  return name.slice(name.indexOf("/") + 1).startsWith("_");
}

/** generated imports the module compileTemplates writes for `sources`. */
async function generated(sources: Map<string, string>): Promise<Record<string, Render>> {
  const text = compileTemplates([...sources].map(([name, source]) => ({ name, source })));
  return ((await import(`data:text/javascript,${encodeURIComponent(text)}`)) as { templates: Record<string, Render> }).templates;
}

function projectSources(): Map<string, string> {
  const dir = join(ROOT, "templates");
  const sources = new Map<string, string>();
  for (const backend of readdirSync(dir).sort()) {
    for (const f of readdirSync(join(dir, backend)).sort()) if (f.endsWith(".hbs")) sources.set(`${backend}/${f.slice(0, -4)}`, readFileSync(join(dir, backend, f), "utf8"));
  }
  return sources;
}

// --- the project's templates on the project's views ---

const reference = handlebarsTemplates(projectSources());

/** differential renders `texts` (site files) and compares every template call with Handlebars. */
function differential(texts: Iterable<string>): { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const mismatches: string[] = [];
  observeTemplates((name, view, output) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const expected = reference.get(name)!(view);
    if (expected !== output && mismatches.length < 3) mismatches.push(`${name}:\n--- Handlebars\n${expected}\n--- generated\n${output}`);
  });
  try {
    for (const text of texts) {
      const compiled = compileSite("site.yaml", text);
      const errors = compiled.diagnostics.filter((d) => d.severity === "error");
      assert.deepEqual(errors.map(formatDiagnostic), [], `the site file was rejected:\n${text}`);
      assert.deepEqual(mismatches, []);
    }
  } finally {
    observeTemplates(undefined);
  }
  return { calls };
}

test("fixtures: every template renders the same bytes as Handlebars", () => {
  const { calls } = differential(fixtures().map((f) => f.text));
  assert.deepEqual([...calls.keys()].sort(), [...reference.keys()].sort(), "every template was used");
});

test(`random site files (${RUNS}, seed ${SEED}): every template renders the same bytes as Handlebars`, () => {
  let sites = 0;
  fc.assert(
    fc.property(siteFile, (file) => {
      sites += (file.sites as unknown[]).length;
      differential([toYamlText(file).text]);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  assert.ok(sites > RUNS, "files hold several sites");
});

// --- semantics on small templates ---

test("the compiler's semantics equal Handlebars' on edge values", async () => {
  const sources = new Map([
    ["t/values", "[{{a}}][{{b.c}}][{{this.a}}][{{./a}}]{{!-- comment --}}"],
    ["t/adjacent", "{{a}}{{b}}|{{#if a}}{{a}}{{/if}}{{b}}"],
    ["t/if", "{{#if a}}yes {{a}}{{else if b}}b{{else}}no{{/if}}"],
    ["t/each", "{{#each xs}}<{{this}}>{{/each}}|{{#each ys}}{{#each zs}}({{v}}){{/each}}{{/each}}"],
    ["t/standalone", "start\n  {{#if a}}\n  in\n  {{else}}\n  out\n  {{/if}}\nend {{~a~}} x\n{{#each xs}}\n- {{this}}\n{{/each}}\n"],
    ["t/partials", "{{> _p}}|{{> _p inner}}|{{#each list}}\n{{> _p}}\n{{/each}}"],
    ["t/_p", "p:{{a}}"],
  ]);
  const mine = await generated(sources);
  const theirs = handlebarsTemplates(sources);
  const f = function (this: { a?: unknown }) {
    return `fn(${String(this?.a)})`;
  };
  const views: Record<string, unknown>[] = [
    { a: "x", b: { c: "y" } },
    { a: 0, b: { c: 1 } },
    { a: 1, b: 2, xs: [1, 2], zs: [] },
    { a: [], b: { c: null } },
    { a: [0], b: { c: undefined } },
    { a: null, b: "" },
    { a: undefined, b: false },
    { a: "", b: 0 },
    { a: NaN, b: { c: Symbol.for("s").description } },
    { a: f, b: { c: f } },
    { a: { toString: () => "obj", valueOf: () => 7 }, b: { c: [1, [2, 3]] } },
    { a: "x", xs: [null, undefined, 0, "", false, [1, 2], { v: 1 }] },
    { a: "x", xs: "a string", ys: [{ zs: [{ v: 1 }, { v: 2 }] }, { zs: [] }, { zs: null }] },
    { a: "top", inner: { a: "inner" }, list: [{ a: 1 }, { a: 2 }], xs: [] },
    { a: 1, b: 2, xs: [1, , 3] },
    { b: { c: 1 }, xs: [] }, // a missing: strict lookups throw
    { a: 1 }, // b missing
    { a: 1, b: null }, // b.c on null
  ];
  for (const [name, hb] of theirs) {
    for (const view of views) {
      let expected: string | Error;
      let actual: string | Error;
      try {
        expected = hb(view);
      } catch (e) {
        expected = e as Error;
      }
      try {
        actual = mine[name]!(view);
      } catch (e) {
        actual = e as Error;
      }
      const what = `${name} on ${JSON.stringify(view, (_, v) => (v === undefined ? "(undefined)" : typeof v === "function" ? "(fn)" : v))}`;
      if (expected instanceof Error) assert.ok(actual instanceof Error, `${what}: Handlebars threw ${expected.message}, generated gave ${JSON.stringify(actual)}`);
      else assert.equal(actual, expected, what);
    }
  }
});

test("a missing value names the value, the template and the line", async () => {
  const t = await generated(new Map([["x/a", "line 1\n# {{here}}\n"]]));
  assert.throws(() => t["x/a"]!({}), { message: '"here" not defined in [object Object] - 2:4 (templates/x/a.hbs)' });
});

test("the build refuses what the compiler does not support, naming the template and line", () => {
  const bad: [string, RegExp][] = [
    ["{{{a}}}", /\{\{\{…\}\}\}/],
    ["{{& a}}", /\{\{\{…\}\}\}/],
    ["{{lookup a b}}", /helper call/],
    ["{{a b=1}}", /helper call/],
    ["{{log}}", /names a Handlebars helper/],
    ['{{"text"}}', /StringLiteral/],
    ["{{@index}}", /@data/],
    ["{{#each xs}}{{@index}}{{/each}}", /@data/],
    ["{{#each xs}}{{../a}}{{/each}}", /parent paths/],
    ["{{#each xs as |x|}}{{x}}{{/each}}", /block parameters/],
    ["{{#each xs}}a{{else}}b{{/each}}", /\{\{else\}\} in \{\{#each\}\}/],
    ["{{#with a}}{{b}}{{/with}}", /only #if and #each/],
    ["{{#unless a}}b{{/unless}}", /only #if and #each/],
    ["{{#a}}b{{/a}}", /only #if and #each/],
    ["{{^if a}}b{{/if}}", /sections are not supported/],
    ["{{#if a b}}c{{/if}}", /exactly one parameter/],
    ["{{#if (lookup a b)}}c{{/if}}", /SubExpression/],
    ["{{#if a includeZero=true}}c{{/if}}", /hash/],
    ["{{#each this}}c{{/each}}", /`this` as the parameter/],
    ["{{constructor}}", /Object.prototype/],
    ["{{a.map}}", /Array.prototype/],
    ["  {{> _p}}\n", /indented/],
    ["{{> _p a b}}", /at most one/],
    ["{{> _p a=1}}", /hash/],
    ["{{> (a)}}", /dynamic partials/],
    ["{{> _missing}}", /no partial templates\/x\/_missing.hbs/],
    ["{{#> _p}}default{{/_p}}", /PartialBlockStatement/],
    ["{{* dec}}", /Decorator/],
    ["{{#* inline \"p\"}}x{{/inline}}", /DecoratorBlock/],
  ];
  for (const [source, message] of bad) {
    assert.throws(
      () => compileTemplates([{ name: "x/bad", source: `first line\n${source}` }, { name: "x/_p", source: "p" }]),
      (e: Error) => {
        assert.match(e.message, /^build: templates\/x\/bad\.hbs:2:\d+: /, source);
        assert.match(e.message, message, source);
        return true;
      },
      source,
    );
  }
});

// --- random site files (a smaller cousin of test/property.test.ts's generator) ---

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const idnLabel = fc.constantFrom("bücher", "例え", "straße", "xn--bcher-kva");
const tld = fc.constantFrom("test", "example", "org", "xn--p1ai");
const port = fc.integer({ min: 1024, max: 65535 });
const upstream = fc.oneof(
  port.map((p) => `http://127.0.0.1:${p}`),
  port.map((p) => `http://[::1]:${p}`),
  port.map((p) => `https://127.0.0.1:${p}/`),
  port.map((p) => `https://matrix-backend.internal:${p}`),
  port.map((p) => `http://localhost:${p}`),
  label.map((l) => `unix:/run/${l}/homeserver.sock`),
  label.map((l) => `unix:/run/my ${l}/home'server.sock`),
);
const size = fc.oneof(fc.tuple(fc.integer({ min: 1, max: 2047 }), fc.constantFrom("K", "M", "m", "k")).map(([n, u]) => `${n}${u}`), fc.integer({ min: 1, max: 2 ** 31 }));
const duration = fc.oneof(fc.integer({ min: 1, max: 86400 }).map((n) => `${n}s`), fc.integer({ min: 1, max: 24 }).map((n) => `${n}h`), fc.integer({ min: 1, max: 86400 }));
// Any strings in the documents (quotes, backslashes, `$`, `{`, controls): escaping is per backend.
const jsonValue = fc.jsonValue({ maxDepth: 2, depthSize: "small", stringUnit: "binary" }).filter((v) => JSON.stringify(v).length < 200);
const namespacedKey = fc.tuple(fc.constantFrom("org", "io", "m"), label).map(([a, b]) => `${a}.${b}`);
const certPath = fc.constantFrom("/etc/ssl/site/fullchain.pem", "/etc/ssl/my site/full chain.pem", "/etc/ssl/o'brien/\"cert\".pem", "/etc/ssl/back\\slash/c.pem");

const siteChoices = fc.record({
  sameHost: fc.boolean(),
  upstream,
  maxUpload: fc.option(size, { nil: undefined }),
  timeout: fc.option(duration, { nil: undefined }),
  client: fc.oneof(fc.constant(false as const), fc.constant(undefined), fc.dictionary(namespacedKey.filter((k) => k !== "m.homeserver" && k !== "m.server"), jsonValue, { maxKeys: 3 })),
  server: fc.constantFrom("default", "false", "explicit"),
  support: fc.option(fc.record({ support_page: fc.webUrl() }), { nil: undefined }),
  fed: fc.option(fc.constantFrom(443, 8448), { nil: undefined }),
  https: fc.option(fc.constantFrom(443, 8443), { nil: undefined }),
  http: fc.option(fc.constantFrom(80, 8080, false as const), { nil: undefined }),
  tls: fc.oneof(fc.constantFrom("acme" as const, "acme-email" as const, "none" as const), fc.tuple(certPath, certPath)),
});

const siteFile = fc
  .record({
    sites: fc.array(fc.tuple(siteChoices, fc.oneof({ weight: 4, arbitrary: label }, { weight: 1, arbitrary: idnLabel }), label, tld), { minLength: 1, maxLength: 12 }),
    defaults: fc.option(fc.record({ homeserver: fc.record({ max_upload: size, timeout: duration }, { requiredKeys: [] }) }), { nil: undefined }),
  })
  .map((r) => {
    const sites = r.sites.map(([c, a, b, t], i) => {
      const name = `${a}.s${i}.${t}`;
      const site: Record<string, any> = { server_name: name, homeserver: { host: c.sameHost ? name : `${b}.h${i}.${t}`, upstream: c.upstream } };
      if (c.maxUpload !== undefined) site.homeserver.max_upload = c.maxUpload;
      if (c.timeout !== undefined) site.homeserver.timeout = c.timeout;
      const wk: Record<string, unknown> = {};
      if (c.client !== undefined) wk.client = c.client;
      if (c.server === "false") wk.server = false;
      else if (c.server === "explicit") wk.server = `federation.h${i}.test:${c.fed ?? 443}`;
      if (c.support) wk.support = c.support;
      if (Object.keys(wk).length > 0) site.well_known = wk;
      if (c.fed !== undefined) site.federation = { port: c.fed };
      if (c.https !== undefined || c.http !== undefined) site.listen = { ...(c.https !== undefined ? { https: c.https } : {}), ...(c.http !== undefined ? { http: c.http } : {}) };
      if (c.tls === "acme") site.tls = { acme: {} };
      else if (c.tls === "acme-email") site.tls = { acme: { email: `admin${i}@example.com` } };
      else if (Array.isArray(c.tls)) site.tls = { cert: c.tls[0], key: c.tls[1] };
      if (c.upstream.startsWith("unix:")) site.backends = { traefik: { upstream: "http://127.0.0.1:6167" } };
      return site;
    });
    const file: Record<string, unknown> = { version: 1 };
    if (r.defaults) file.defaults = r.defaults;
    file.sites = sites;
    return file;
  });
