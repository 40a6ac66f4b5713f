// Hostile values (test/hostile/corpus.json) in every string field of the YAML contract
// (test/hostile/fields.json). Each value × template × field must be either
//  - rejected by validation with an error naming the value's line (nothing rendered), or
//  - rendered so that nginx, Apache, Caddy (their real parsers: nginx -t, apache2 -t, caddy
//    validate) accept the output, and what each parser read has exactly the shape of a render of
//    the same site with a harmless marker instead of the value — no extra directive, no split
//    argument — with the value in place of the marker (test/hostile/compare.ts); for Traefik the
//    checker passes and the parsed YAML holds exactly the value; and every well-known document
//    JSON.parses to exactly the input (keys and values, nested ones included).
// Cases of a field are rendered together (many sites per file) and checked by one run of each
// parser; a backend that fails on the batch is re-run case by case to name the culprit.
// The live check at the end serves the client documents holding the whole corpus from real
// nginx, Apache and Caddy and compares the bytes with out/well-known.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { domainToASCII } from "node:url";
import { compileSite, formatDiagnostic, loadSite } from "../src/index.js";
import type { Compiled, Plan, RenderedFile } from "../src/index.js";
import { checkSyntax, testPki, type Checked, type SyntaxResult } from "./harness/syntax.ts";
import { compareViews, pairsFor, type Pair } from "./hostile/compare.ts";
import { toYamlText, type YamlText } from "./hostile/yaml-text.ts";

// --- the corpus ---

interface Value {
  id: string;
  value: string;
  note?: string;
}
interface Template {
  t: unknown;
  benign?: string;
  base?: Record<string, unknown>;
}
interface Field {
  id: string;
  scope: "site" | "file";
  path: (string | number)[];
  hostname?: boolean;
  file?: boolean;
  value?: unknown;
  base?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  omit?: (string | number)[][];
  templates: Template[];
  must?: { accept?: string[] | "*"; except?: string[] };
  sameAs?: { field: string; template: string };
}

const HERE = new URL("./hostile/", import.meta.url);
const VALUES: Value[] = (JSON.parse(readFileSync(new URL("corpus.json", HERE), "utf8")).values as (Value & { repeat?: string; times?: number })[]).map((v) =>
  v.repeat !== undefined ? { id: v.id, note: v.note, value: v.repeat.repeat(v.times!) } : v,
);
const FIELDS: Field[] = JSON.parse(readFileSync(new URL("fields.json", HERE), "utf8")).fields;
const BACKENDS: Checked[] = ["nginx", "apache", "caddy", "traefik"];

const DIR = mkdtempSync(join(tmpdir(), "mxproxy-hostile-"));
chmodSync(DIR, 0o755);
after(() => rmSync(DIR, { recursive: true, force: true }));

// --- building site files ---

let markers = 0;

interface Case {
  field: Field;
  value: Value;
  template: Template;
  label: string;
  hostile: unknown;
  benign: unknown;
  /** The benign value is a unique marker: the case can share a file with others. */
  batchable: boolean;
  /** The marker standing for the value in the benign render (undefined: an explicit benign value). */
  marker?: string;
  yaml: YamlText;
  object: Record<string, unknown>;
  compiled?: Compiled;
  threw?: string;
  /** Problems per backend (and "well-known"), filled by the real-parser runs. */
  problems: Map<string, string[]>;
  checked: Set<string>;
}

function fill(t: unknown, v: string): unknown {
  if (typeof t === "string") return t.replaceAll("{dir}", DIR).split("{v}").join(v);
  if (Array.isArray(t)) return t.map((x) => fill(x, v));
  if (t && typeof t === "object") return Object.fromEntries(Object.entries(t).map(([k, x]) => [fill(k, v) as string, fill(x, v)]));
  return t;
}

function merge(into: Record<string, unknown>, from: unknown): void {
  if (!from || typeof from !== "object") return;
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (v && typeof v === "object" && cur && typeof cur === "object") merge(cur as Record<string, unknown>, v);
    else into[k] = structuredClone(v);
  }
}

function setPath(root: Record<string, unknown>, path: (string | number)[], slot: unknown, keyValue: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (o[k] === undefined || o[k] === null) o[k] = typeof path[i + 1] === "number" ? [] : {};
    o = o[k] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (last === "@key") o[slot as string] = keyValue;
  else o[last] = slot;
}

function deletePath(root: Record<string, unknown>, path: (string | number)[]): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  delete o[path[path.length - 1]!];
}

function baseSite(i: number): Record<string, unknown> {
  return { server_name: `s${i}.batch.test`, homeserver: { host: `m${i}.batch.test`, upstream: "http://127.0.0.1:6167" } };
}

function siteFor(field: Field, template: Template, slot: unknown, i: number): Record<string, unknown> {
  const site = baseSite(i);
  merge(site, fill(field.base ?? {}, ""));
  merge(site, fill(template.base ?? {}, ""));
  setPath(site, field.path, slot, field.value);
  return site;
}

/** fileFor builds a site file holding `slots` (one site each, or at the top level). */
function fileFor(field: Field, items: { template: Template; slot: unknown }[]): Record<string, unknown> {
  if (field.scope === "site") return { version: 1, sites: items.map((it, i) => siteFor(field, it.template, it.slot, i)) };
  const [{ template, slot }] = items as [{ template: Template; slot: unknown }];
  const root: Record<string, unknown> & { sites: Record<string, unknown>[] } = { version: 1, sites: [baseSite(0)] };
  const { sites: extraSites, ...extra } = fill(field.extra ?? {}, "") as Record<string, unknown>;
  if (Array.isArray(extraSites)) extraSites.forEach((s, i) => merge(root.sites[i]!, s));
  merge(root, extra);
  merge(root, fill(template.base ?? {}, ""));
  for (const p of field.omit ?? []) deletePath(root, p);
  setPath(root, field.path, slot, field.value);
  return root;
}

function slotPath(field: Field, slot: unknown, i = 0): string {
  const last = field.path[field.path.length - 1];
  const path = last === "@key" ? [...field.path.slice(0, -1), slot as string] : field.path;
  return JSON.stringify(field.scope === "site" ? ["sites", i, ...path] : path);
}

const CASES: Case[] = [];
for (const field of FIELDS) {
  for (const value of VALUES) {
    field.templates.forEach((template, k) => {
      // File-scope cases each get a file of their own: one shared marker, so one harmless render.
      // Hostname markers hold a dot, so their ASCII, slug and regex forms differ.
      const marker = (field.scope === "file" ? "zqfilezq" : `zq${markers++}zq`) + (field.hostname ? ".mark" : "");
      const hostile = fill(template.t, value.value);
      const benign = template.benign !== undefined ? fill(template.benign, "") : fill(template.t, marker);
      const object = fileFor(field, [{ template, slot: hostile }]);
      const c: Case = {
        field,
        value,
        template,
        label: typeof template.t === "string" ? template.t : `template ${k + 1}`,
        hostile,
        benign,
        batchable: template.benign === undefined,
        marker: template.benign === undefined ? marker : undefined,
        yaml: toYamlText(object),
        object,
        problems: new Map(),
        checked: new Set(),
      };
      try {
        c.compiled = compileSite("site.yaml", c.yaml.text);
      } catch (e) {
        c.threw = (e as Error).stack ?? String(e);
      }
      CASES.push(c);
    });
  }
}

const stats = { cases: 0, rejected: 0, accepted: 0, parserChecks: 0, parserRuns: 0 };
const accepted = (c: Case) => c.compiled?.files !== undefined;

// --- checks ---

const ascii = (s: string) => domainToASCII(s.toLowerCase());

/** The documents a site must serve, computed from the input alone. */
function expectedDocs(site: Record<string, any>): Record<string, unknown> {
  const host = ascii(site.homeserver.host);
  const https = site.listen?.https ?? 443;
  const docs: Record<string, unknown> = {};
  const client = site.well_known?.client;
  if (client !== false) {
    const { base_url, ...rest } = client ?? {};
    docs.client = { "m.homeserver": { base_url: base_url ?? `https://${host}${https === 443 ? "" : `:${https}`}` }, ...rest };
  }
  const server = site.well_known?.server;
  if (server !== false) docs.server = { "m.server": server ?? `${host}:${site.federation?.port ?? 443}` };
  if (site.well_known?.support) docs.support = site.well_known.support;
  return docs;
}

/** In-process checks of an accepted render: the loader read the value exactly; the documents are exact. */
function checkRender(object: Record<string, unknown>, yaml: YamlText, compiled: Compiled, hostname: boolean): string[] {
  const problems: string[] = [];
  try {
    assert.deepEqual(loadSite("site.yaml", yaml.text).value, object);
  } catch {
    problems.push("test harness: the YAML text did not load back as the intended data (test/hostile/yaml-text.ts)");
  }
  const plan = compiled.plan!;
  if (hostname) {
    for (const s of plan.sites) {
      for (const name of [s.serverName, s.host]) {
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) {
          problems.push(`accepted hostname renders as ${JSON.stringify(name)}, which is not a DNS name (letters, digits, hyphens): backends get a different host than the one written`);
        }
      }
    }
  }
  const sites = (object.sites as Record<string, unknown>[]).map((s) => ({ ...((object.defaults as object) ?? {}), ...s }));
  plan.sites.forEach((s, j) => {
    const want = expectedDocs(sites[j]!);
    assert.deepEqual(s.wellKnown.map((d) => d.name).sort(), Object.keys(want).sort());
    for (const d of s.wellKnown) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(d.body);
      } catch (e) {
        problems.push(`${d.path} of site ${j} is not JSON: ${(e as Error).message}`);
        continue;
      }
      try {
        assert.deepEqual(parsed, want[d.name]);
      } catch {
        problems.push(`${d.path} of site ${j} parses to ${JSON.stringify(parsed).slice(0, 300)}, expected ${JSON.stringify(want[d.name]).slice(0, 300)}`);
      }
      const file = compiled.files!.find((f) => f.path === `well-known/${s.serverName}${d.path}`);
      if (file?.contents !== d.body) problems.push(`out/well-known/${s.serverName}${d.path} differs from the body the configs serve`);
    }
  });
  return problems;
}

let tmpCount = 0;

/** Create every certificate/key file a render names (real parsers load them). */
function ensureTlsFiles(plan: Plan): Map<number, string[]> {
  const pki = testPki();
  const problems = new Map<number, string[]>();
  for (const [i, s] of plan.sites.entries()) {
    if (s.tls.kind !== "files") continue;
    for (const [path, src] of [[s.tls.cert, pki.chainFile], [s.tls.key, pki.keyFile]] as const) {
      if (!resolve(path).startsWith(DIR + "/")) {
        problems.set(i, [...(problems.get(i) ?? []), `test harness: refusing to create ${JSON.stringify(path)} outside ${DIR}`]);
        continue;
      }
      try {
        if (existsSync(path)) continue;
        mkdirSync(dirname(path), { recursive: true });
        // temp + rename: parsers of concurrent renders may be reading the shared files
        const tmp = join(dirname(path), `.tmp-${process.pid}-${tmpCount++}`);
        copyFileSync(src, tmp);
        renameSync(tmp, path);
      } catch (e) {
        problems.set(i, [...(problems.get(i) ?? []), `accepted TLS path ${JSON.stringify(path).slice(0, 120)} cannot exist on this system (${(e as NodeJS.ErrnoException).code}): validation should refuse it`]);
      }
    }
  }
  return problems;
}

/** The nginx error is only that the upstream host does not resolve, and names exactly the intended host. */
function onlyUnresolved(error: string, plan: Plan): boolean {
  const m = /host not found in upstream "([^"]+)"/.exec(error);
  return !!m && (error.match(/\[emerg\]/g) ?? []).length === 1 && plan.sites.some((s) => s.upstream.kind === "tcp" && (s.upstream.authority === m[1] || s.upstream.host === m[1]));
}

interface Rendered {
  plan: Plan;
  files: RenderedFile[];
  result: SyntaxResult;
  /** Problems creating the TLS files a site names, by site index. */
  fileProblems: Map<number, string[]>;
}

const RENDERS_AT_ONCE = 3;
const BATCH = 24;
let running = 0;
const waiting: (() => void)[] = [];
const benignRenders = new Map<string, Promise<Rendered | string>>();

/** render compiles a site file and runs the parsers on it (at most RENDERS_AT_ONCE at a time). */
async function render(object: Record<string, unknown>, only: Checked[]): Promise<Rendered | string> {
  const yaml = toYamlText(object);
  let compiled: Compiled;
  try {
    compiled = compileSite("site.yaml", yaml.text);
  } catch (e) {
    return `compileSite threw: ${(e as Error).message}`;
  }
  if (!compiled.files) return `rejected: ${compiled.diagnostics.map(formatDiagnostic).join("; ")}`;
  const fileProblems = ensureTlsFiles(compiled.plan!);
  if (running >= RENDERS_AT_ONCE) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    stats.parserRuns++;
    const result = await checkSyntax(compiled.files, { structure: true, only });
    return { plan: compiled.plan!, files: compiled.files, result, fileProblems };
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The same harmless file is rendered once, through every parser. */
function renderBenign(object: Record<string, unknown>): Promise<Rendered | string> {
  const key = JSON.stringify(object);
  if (!benignRenders.has(key)) benignRenders.set(key, render(object, BACKENDS));
  return benignRenders.get(key)!;
}

/**
 * runGroup checks the `active` cases of a batch: the batch's site file with the active cases'
 * hostile values (the others keep their harmless marker) against the harmless file, on the
 * parsers of `only`. A failure that names its file (or Caddyfile line, TLS path, Traefik line)
 * is charged to that case and the others are re-run without it (nginx and Caddy stop at the
 * first error); any other failure splits the active cases in two, down to single cases.
 */
async function runGroup(field: Field, batch: Case[], active: Case[], only: Checked[]): Promise<void> {
  if (active.length === 0 || only.length === 0) return;
  const on = new Set(active);
  const [h, b] = await Promise.all([
    render(fileFor(field, batch.map((c) => ({ template: c.template, slot: on.has(c) ? c.hostile : c.benign }))), only),
    renderBenign(fileFor(field, batch.map((c) => ({ template: c.template, slot: c.benign })))),
  ]);
  const split = new Set<Checked>();
  const without = new Map<string, { rest: Case[]; backends: Checked[] }>();
  const single = active.length === 1 ? active[0]! : undefined;
  if (typeof b === "string") {
    for (const c of active) for (const k of only) note(c, k, `the harmless render of this case is itself ${b}`);
    return;
  }
  if (typeof h === "string") {
    // Cases accepted alone but not together (two values with the same ASCII name): check the
    // ones the errors name on their own, the rest together.
    const named = new Set([...h.matchAll(/ sites\[(\d+)\]/g)].map((m) => batch[Number(m[1])]!).filter((c) => on.has(c)));
    if (single) for (const k of only) note(single, k, `the render ${h}`);
    else if (named.size === 0 || named.size === active.length) only.forEach((k) => split.add(k));
    else {
      await Promise.all([...named].map((c) => runGroup(field, batch, [c], only)));
      return runGroup(field, batch, active.filter((c) => !named.has(c)), only);
    }
  } else {
    const pairs: Pair[] = active.flatMap((c) => {
      if (field.hostname) return pairsFor(c.benign as string, c.hostile as string, true);
      if (c.marker) return pairsFor(c.marker, c.value.value, false);
      if (typeof c.hostile !== "string") return [];
      // An explicit benign URL: the backends also write its authority alone (Caddy's dial).
      const authority = (u: string) => /^[a-z]+:\/\/([^/]+)/.exec(u)?.[1];
      const [ba, ha] = [authority(c.benign as string), authority(c.hostile)];
      return [...pairsFor(c.benign as string, c.hostile, false), ...(ba && ha ? pairsFor(ba, ha, false) : [])];
    });
    const diff = compareViews({ result: h.result, plan: h.plan }, { result: b.result, plan: b.plan }, pairs, only);
    const at = (i: number | undefined) => (i === undefined ? undefined : batch[i]);
    const structural = (c: Case, k: Checked, problem: string) => note(c, k, `what ${k} read differs from the harmless render: ${problem}`);
    for (const k of only) {
      const benignError = b.result.errors[k];
      if (benignError) {
        for (const c of active) note(c, k, `fails even with a harmless value in place of this one (so not caused by it): ${benignError}`);
        continue;
      }
      let error = h.result.errors[k];
      if (error && k === "nginx" && single && onlyUnresolved(error, h.plan)) error = undefined;
      const problems = diff[k] ?? [];
      const fileBad = k === "traefik" ? [] : [...h.fileProblems.keys()].filter((i) => on.has(batch[i]!));
      if (single) {
        single.checked.add(k);
        if (error) note(single, k, error);
        for (const i of fileBad) for (const p of h.fileProblems.get(i)!) note(single, k, p);
        for (const p of problems) structural(single, k, p.problem);
        continue;
      }
      if (error && k === "traefik") {
        // The Traefik check does not stop at the first problem: charge each to its site.
        const lines = error.split("\n").filter((l) => l.trim());
        const sites = lines.map((l) => at(attributeTraefik(l, h)));
        if (sites.some((c) => !c || !on.has(c))) {
          split.add(k);
          continue;
        }
        lines.forEach((l, n) => note(sites[n]!, k, l));
        for (const c of active) c.checked.add(k);
        for (const p of problems) if (at(p.site) && on.has(at(p.site)!)) structural(at(p.site)!, k, p.problem);
        if (problems.some((p) => p.site === undefined)) split.add(k);
        continue;
      }
      const culprits = new Set<Case>(fileBad.map((i) => batch[i]!));
      if (error) {
        const c = at(attribute(k, error, h));
        if (!c || !on.has(c)) {
          split.add(k);
          continue;
        }
        culprits.add(c);
        note(c, k, error);
      }
      if (!error && problems.some((p) => p.site === undefined)) {
        split.add(k);
        continue;
      }
      for (const i of fileBad) for (const p of h.fileProblems.get(i)!) note(batch[i]!, k, p);
      if (culprits.size > 0) {
        // The parser stopped (or read other files than intended): the rest is unproven.
        const rest = active.filter((c) => !culprits.has(c));
        const key = rest.map((c) => CASES.indexOf(c)).join(",");
        const entry = without.get(key) ?? { rest, backends: [] };
        entry.backends.push(k);
        without.set(key, entry);
        continue;
      }
      for (const c of active) c.checked.add(k);
      for (const p of problems) if (at(p.site) && on.has(at(p.site)!)) structural(at(p.site)!, k, p.problem);
    }
  }
  const jobs: Promise<void>[] = [];
  if (split.size > 0) {
    const half = Math.ceil(active.length / 2);
    jobs.push(runGroup(field, batch, active.slice(0, half), [...split]), runGroup(field, batch, active.slice(half), [...split]));
  }
  for (const { rest, backends } of without.values()) jobs.push(runGroup(field, batch, rest, backends));
  await Promise.all(jobs);
}

function note(c: Case, backend: string, problem: string): void {
  c.checked.add(backend);
  const list = c.problems.get(backend) ?? [];
  list.push(problem.length > 3000 ? problem.slice(0, 3000) + "…" : problem);
  c.problems.set(backend, list);
}

/** attributeTraefik finds the site a Traefik problem line is about, from the line it names. */
function attributeTraefik(message: string, h: Rendered): number | undefined {
  const m = /^(?:(dynamic|static)|traefik\/(mxproxy|static\/traefik)\.yml):(\d+):/.exec(message);
  const file = m && (m[1] === "static" || m[2] === "static/traefik" ? "traefik/static/traefik.yml" : "traefik/mxproxy.yml");
  const text = file ? h.files.find((f) => f.path === file)?.contents : undefined;
  const slug = (s: string) => s.replace(/[^a-z0-9]+/g, "-");
  const keys = h.plan.sites.map((s) => [s.serverName, s.host, slug(s.serverName), ...(s.tls.kind === "files" ? [s.tls.cert, s.tls.key].map((p) => JSON.stringify(p).slice(1, -1)) : [])]);
  const find = (line: string) => {
    let best: number | undefined;
    let len = 0;
    keys.forEach((ks, i) => ks.forEach((k) => line.includes(k) && k.length > len && ((best = i), (len = k.length))));
    return best;
  };
  const direct = find(message);
  if (direct !== undefined || !text || !m) return direct;
  const lines = text.split("\n").slice(0, Number(m[3]));
  for (let j = lines.length - 1; j >= 0; j--) {
    const i = find(lines[j]!);
    if (i !== undefined) return i;
  }
  return undefined;
}

/** attribute finds the site a parser error is about: by file name, Caddyfile line, or TLS path. */
function attribute(k: Checked, error: string, h: Rendered): number | undefined {
  const byName = (name: string) => {
    const i = h.plan.sites.findIndex((s) => s.serverName === name || s.host === name);
    return i < 0 ? undefined : i;
  };
  const file = new RegExp(`/out/${k}/(.+?)\\.conf(?::| |$)`, "m").exec(error);
  if ((k === "nginx" || k === "apache") && file) return byName(file[1]!);
  if (k === "caddy") {
    const line = /Caddyfile:(\d+)/.exec(error);
    const text = h.files.find((f) => f.path === "caddy/Caddyfile")?.contents;
    if (line && text) {
      const lines = text.split("\n").slice(0, Number(line[1]));
      for (let j = lines.length - 1; j >= 0; j--) {
        const m = /^https?:\/\/([^:/\s,]+)/.exec(lines[j]!);
        if (m) return byName(m[1]!);
      }
    }
  }
  // A TLS file the parser could not load, a name or an e-mail it quotes: the site with the
  // longest such text in the message.
  let best: number | undefined;
  let bestLen = 0;
  let tie = false;
  h.plan.sites.forEach((s, i) => {
    const paths = s.tls.kind === "files" ? [s.tls.cert, s.tls.key] : [`live/${s.serverName}/`, `live/${s.host}/`, ...(s.tls.email ? [s.tls.email] : [])];
    const names = [s.serverName, s.host].flatMap((n) => [`'${n}'`, `"${n}"`, ` ${n}:`]);
    for (const p of [...paths, ...names]) {
      if (!error.includes(p)) continue;
      if (p.length > bestLen) [best, bestLen, tie] = [i, p.length, false];
      else if (p.length === bestLen && best !== i) tie = true;
    }
  });
  return tie ? undefined : best;
}

// --- the tests ---


// Every field's parser runs start at once (the render pool bounds them); each suite waits for its own.
const work = new Map<Field, Promise<void>>();
before(() => {
  for (const field of FIELDS) {
    const ok = CASES.filter((c) => c.field === field && accepted(c));
    if (field.sameAs) continue;
    const batchable = field.scope === "site" ? ok.filter((c) => c.batchable) : [];
    const singles = ok.filter((c) => !batchable.includes(c)).map((c) => runGroup(field, [c], [c], BACKENDS));
    // Batches of at most BATCH cases: a parser that stops at the first error costs one re-run of its batch per culprit.
    const batches = Array.from({ length: Math.ceil(batchable.length / BATCH) }, (_, i) => batchable.slice(i * BATCH, (i + 1) * BATCH));
    work.set(field, Promise.all([...batches.map((b) => runGroup(field, b, b, BACKENDS)), ...singles]).then(() => undefined));
  }
  for (const field of FIELDS.filter((f) => f.sameAs)) work.set(field, twins(field));
});

/**
 * twins: a field that must render exactly like another (a value under defaults and the same value
 * on the site). Its accepted cases are compared byte for byte with their twin's render, then
 * share the twin's parser results.
 */
async function twins(field: Field): Promise<void> {
  const other = FIELDS.find((f) => f.id === field.sameAs!.field)!;
  await work.get(other);
  for (const c of CASES.filter((x) => x.field === field && accepted(x))) {
    const twin = CASES.find((x) => x.field === other && x.value === c.value && x.template.t === field.sameAs!.template);
    if (!twin || !accepted(twin)) {
      for (const k of BACKENDS) note(c, k, `accepted under ${field.id} but its twin under ${other.id} is ${twin ? "rejected" : "missing"}`);
      continue;
    }
    // The same file with the value moved from defaults onto the site renders the same bytes.
    const moved = structuredClone(c.object) as Record<string, any>;
    moved.sites[0].homeserver.upstream = c.hostile;
    delete moved.defaults;
    const direct = compileSite("site.yaml", toYamlText(moved).text);
    const same = JSON.stringify(direct.files) === JSON.stringify(c.compiled!.files);
    for (const k of BACKENDS) {
      if (!same) note(c, k, `renders differently from the same value set on the site`);
      for (const p of twin.problems.get(k) ?? []) note(c, k, `(as ${other.id} = ${twin.label}) ${p}`);
      if (twin.checked.has(k)) c.checked.add(k);
    }
  }
}

for (const field of FIELDS) {
  const cases = CASES.filter((c) => c.field === field);
  describe(`field ${field.id}`, () => {
    before(() => work.get(field));
    for (const value of VALUES) {
      const mine = cases.filter((c) => c.value === value);
      test(`${value.id}${value.note ? ` (${value.note})` : ""}`, async (t) => {
        for (const c of mine) {
          stats.cases++;
          const what = `${field.id} = ${c.label} with ${value.id}`;
          const must = field.must?.accept;
          await t.test(c.label, async (tc) => {
            if (c.threw) assert.fail(`${what}: compileSite threw instead of reporting a positioned error:\n${c.threw}`);
            if (!accepted(c)) {
              stats.rejected++;
              const mustAccept = (must === "*" && !field.must?.except?.includes(value.id)) || (Array.isArray(must) && must.includes(value.id));
              if (mustAccept) assert.fail(`${what}: must be accepted, got ${c.compiled!.diagnostics.map(formatDiagnostic).join("; ")}`);
              assertPositioned(c, what);
              return;
            }
            stats.accepted++;
            const own = checkRender(c.object, c.yaml, c.compiled!, !!field.hostname);
            await tc.test("well-known documents", () => assert.deepEqual(own, [], own.join("\n")));
            for (const k of BACKENDS) {
              stats.parserChecks++;
              await tc.test(k, () => {
                assert.ok(c.checked.has(k), `${k} was not checked for this case`);
                const p = c.problems.get(k) ?? [];
                assert.deepEqual(p, [], `${what}:\n${p.join("\n")}`);
              });
            }
          });
        }
      });
    }
  });
}

function assertPositioned(c: Case, what: string): void {
  const errors = c.compiled!.diagnostics.filter((d) => d.severity === "error");
  assert.ok(errors.length > 0, `${what}: rejected without an error`);
  assert.equal(c.compiled!.files, undefined, `${what}: files rendered despite errors`);
  for (const d of errors) assert.match(formatDiagnostic(d), /^site\.yaml:[1-9][0-9]*:[1-9][0-9]* /, `${what}: unpositioned message`);
  const path = JSON.parse(slotPath(c.field, c.hostile)) as (string | number)[];
  const line = c.yaml.lines.get(JSON.stringify(path));
  assert.ok(line, `${what}: test harness lost the line of the value`);
  // The value's own line (or its key's), a line inside it (a nested value), or, for a problem of
  // the whole document (e.g. its size), the line of a key above it inside the same site/section.
  const near = new Set<number>([line]);
  const key = c.yaml.keys.get(JSON.stringify(path));
  if (key) near.add(key);
  for (let n = path.length - 1; n >= (c.field.scope === "site" ? 3 : 1); n--) {
    const l = c.yaml.lines.get(JSON.stringify(path.slice(0, n)));
    if (l) near.add(l);
  }
  const prefix = JSON.stringify(path).slice(0, -1) + ",";
  for (const [p, l] of c.yaml.lines) if (p.startsWith(prefix)) near.add(l);
  assert.ok(
    errors.some((d) => near.has(d.line)),
    `${what}: no error on line ${line}, where the value is (nor on its key, a key above it or a line inside it: ${[...near].sort((a, b) => a - b).join(", ")}); got:\n${errors.map(formatDiagnostic).join("\n")}`,
  );
}

// --- live: the documents holding the corpus, served by the real servers ---

describe("live: real nginx, Apache and Caddy serve the corpus documents byte for byte", () => {
  // Every corpus value as a client document value, key, nested value and support contact, spread
  // over sites so that each body stays under nginx's 4 KiB token limit (over-long bodies are a
  // known failure of the syntax checks above; here the point is the escaping).
  const values = VALUES.filter((v) => v.value.length <= 300);
  const sites: Record<string, unknown>[] = [];
  let client: Record<string, unknown> = {};
  const flush = () => {
    if (Object.keys(client).length === 0) return;
    const i = sites.length;
    sites.push({ server_name: `live${i}.test`, homeserver: { host: `hs${i}.test`, upstream: "http://127.0.0.1:9" }, well_known: { client } });
    client = {};
  };
  values.forEach((v, n) => {
    const entry: Record<string, unknown> = { [`org.example.v${n}`]: v.value, [`org.example.n${n}`]: { list: [v.value, { deep: v.value }], [v.value]: v.value } };
    if (!/[\u0000-\u001f\u007f.]/.test(v.value) && v.value !== "") entry[`org.example.${v.value}`] = n;
    const trial = toYamlText({ version: 1, sites: [{ server_name: "x.test", homeserver: { host: "y.test", upstream: "http://127.0.0.1:9" }, well_known: { client: { ...client, ...entry } } }] });
    const body = compileSite("site.yaml", trial.text).plan?.sites[0]?.wellKnown[0]?.body ?? "";
    if (body.length > 2500) flush();
    Object.assign(client, entry);
  });
  flush();
  // Support documents: the accepted contact values.
  sites.push({
    server_name: "support.test",
    homeserver: { host: "hs-support.test", upstream: "http://127.0.0.1:9" },
    well_known: { support: { contacts: values.map((v) => ({ matrix_id: `@${v.value}:example.com`, role: "m.role.admin" })).filter((c) => compileSite("s.yaml", toYamlText({ version: 1, sites: [{ server_name: "a.test", homeserver: { host: "b.test", upstream: "http://127.0.0.1:9" }, well_known: { support: { contacts: [c] } } }] }).text).files).slice(0, 40) } },
  });

  let out = "";
  let port = 0;
  let compiled: Compiled;
  let ca: Buffer;
  before(async () => {
    const h = await import("./harness/servers.ts");
    const names = sites.flatMap((s) => [s.server_name as string, (s.homeserver as { host: string }).host]);
    const pki = h.makeTestPki(join(DIR, "live-pki"), names);
    ca = pki.ca;
    port = (await h.freePorts(1))[0]!;
    for (const s of sites) Object.assign(s, { tls: { cert: pki.chainFile, key: pki.keyFile }, listen: { https: port, http: false } });
    compiled = compileSite("site.yaml", toYamlText({ version: 1, sites }).text);
    assert.ok(compiled.files, compiled.diagnostics.map(formatDiagnostic).join("\n"));
    out = join(DIR, "live-out");
    const { writeOutput } = await import("../src/index.js");
    writeOutput(out, compiled.files!);
  });

  for (const server of ["nginx", "apache", "caddy"] as const) {
    test(`${server}`, async () => {
      const h = await import("./harness/servers.ts");
      const work = mkdtempSync(join(DIR, `live-${server}-`));
      const start = { nginx: h.startNginx, apache: h.startApache, caddy: h.startCaddy }[server];
      // The harness unrefs the server process and its waits: keep the event loop alive meanwhile.
      const alive = setInterval(() => {}, 1000);
      const running = await start(out, { workDir: work, ports: [port] }).catch((e) => {
        clearInterval(alive);
        throw e;
      });
      try {
        let served = 0;
        for (const site of compiled.plan!.sites) {
          for (const doc of site.wellKnown) {
            const res = await h.probe({ host: site.serverName, port, path: doc.path, ca });
            const file = readFileSync(join(out, "well-known", site.serverName, doc.path));
            assert.equal(res.status, 200, `${server} ${site.serverName}${doc.path}: status ${res.status}`);
            assert.ok(res.body.equals(file), `${server} ${site.serverName}${doc.path}: served bytes differ from out/well-known\nserved: ${JSON.stringify(res.text).slice(0, 400)}\nfile:   ${JSON.stringify(file.toString()).slice(0, 400)}`);
            served++;
          }
        }
        assert.ok(served > sites.length, "every document was probed");
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- ${server} logs ---\n${running.logs().slice(-3000)}`);
      } finally {
        await running.stop();
        clearInterval(alive);
      }
    });
  }
});

after(() => {
  const fields = FIELDS.length;
  process.stderr.write(
    `hostile corpus: ${VALUES.length} values × ${fields} fields (${FIELDS.reduce((n, f) => n + f.templates.length, 0)} templates) = ${stats.cases} cases; ` +
      `${stats.rejected} rejected with a positioned error, ${stats.accepted} accepted and checked against ${BACKENDS.length} backends + the documents (${stats.parserChecks} field × value × backend checks; ${stats.parserRuns} renders through the parsers)\n`,
  );
});
