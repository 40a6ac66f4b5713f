// Structural comparison of two renders of the same site file that differ only in one value per
// case: a harmless marker (benign render) and a hostile value (hostile render). Each parser's
// view of the hostile render must have exactly the shape of the benign one (same directives,
// same number of arguments, same keys), and every argument or string that differs must be the
// benign one with the marker replaced by the hostile value (in the form the backend writes it:
// raw, or as ASCII hostname, slug, regex literal), or be byte for byte one of the site's
// well-known documents. Anything else (an extra directive, a split argument, a value that the
// parser read differently) is reported.
import { domainToASCII } from "node:url";
import type { Plan } from "../../src/index.js";
import { apExprString, type ApacheDirective, type NginxDirective, type SyntaxResult } from "../harness/syntax.ts";

/** A substitution: benign text → the hostile text the renderer should have written instead. */
export type Pair = [benign: string, hostile: string];

/** Substitution pairs for one case. Hostnames appear only in their ASCII forms. */
export function pairsFor(benign: string, hostile: string, hostname: boolean): Pair[] {
  if (!hostname) return benign === hostile ? [] : [[benign, hostile]];
  const a = (s: string) => domainToASCII(s.toLowerCase());
  const slug = (s: string) => s.replace(/[^a-z0-9]+/g, "-");
  const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const [b, h] = [a(benign), a(hostile)];
  return [
    [re(b), re(h)],
    [slug(b), slug(h)],
    [b, h],
  ];
}

/** A function replacing every benign form (longest first, one pass) with its hostile form. */
export function substituter(pairs: Pair[]): (s: string) => string {
  const live = pairs.filter(([b]) => b !== "");
  if (live.length === 0) return (s) => s;
  const map = new Map(live);
  const re = new RegExp([...map.keys()].sort((x, y) => y.length - x.length).map((b) => b.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  return (s) => s.replace(re, (m) => map.get(m)!);
}

/** Which backend views to compare. */
export type View = "nginx" | "apache" | "caddy" | "traefik";

/** compareViews lists, per backend, how the hostile render's parsed structure departs from the benign one's. */
export function compareViews(
  hostile: { result: SyntaxResult; plan: Plan },
  benign: { result: SyntaxResult; plan: Plan },
  pairs: Pair[],
  views: View[],
): Partial<Record<View, { site?: number; problem: string }[]>> {
  const sub = substituter(pairs);
  const hBodies = bodies(hostile.plan);
  const bBodies = bodies(benign.plan);
  const out: Partial<Record<View, { site?: number; problem: string }[]>> = {};
  const add = (v: View, problem: string, site?: number) => (out[v] ??= []).push({ site, problem });
  const cmp = (h: unknown, b: unknown) => sameTree(norm(h, hBodies), norm(b, bBodies), sub);
  for (const view of views) {
    if (view === "nginx" || view === "apache") {
      hostile.plan.sites.forEach((site, j) => {
        const bSite = benign.plan.sites[j];
        if (!bSite) return add(view, `site ${j} missing from the benign render`, j);
        const hMap = (hostile.result[view] ?? new Map()) as Map<string, unknown[]>;
        const bMap = (benign.result[view] ?? new Map()) as Map<string, unknown[]>;
        const h = hMap.get(`${view}/${site.serverName}.conf`);
        const b = bMap.get(`${view}/${bSite.serverName}.conf`);
        if (!h || !b) return add(view, `no parsed ${view} file for site ${j} (${site.serverName})`, j);
        const problem = view === "nginx" ? cmp(nginxView(h as NginxDirective[]), nginxView(b as NginxDirective[])) : cmp(apacheView(h as ApacheDirective[]), apacheView(b as ApacheDirective[]));
        if (problem) add(view, problem, j);
      });
    } else if (view === "caddy") {
      const [h, b] = [hostile.result.caddy, benign.result.caddy];
      if (h === undefined || (h as { adaptError?: string }).adaptError) add(view, `caddy adapt failed: ${(h as { adaptError?: string })?.adaptError ?? "no output"}`);
      else {
        const problem = cmp(caddyGroups(h), caddyGroups(b));
        if (problem) add(view, problem);
      }
    } else if (view === "traefik") {
      const [h, b] = [hostile.result.traefik, benign.result.traefik];
      if (!h || !b) add(view, "no parsed Traefik files");
      else {
        for (const [path, tree] of h) {
          const problem = cmp(tree, b.get(path));
          if (problem) add(view, `${path}: ${problem}`);
        }
      }
    }
  }
  return out;
}

// --- internal ---

/** Every well-known body of a plan, mapped to a placeholder naming the site and document. */
function bodies(plan: Plan): Map<string, string> {
  const m = new Map<string, string>();
  plan.sites.forEach((s, j) => s.wellKnown.forEach((d) => m.set(d.body, `<well-known body: site ${j} ${d.name}>`)));
  return m;
}

/** Replace strings that are exactly a well-known body by its placeholder. */
function norm(v: unknown, b: Map<string, string>): unknown {
  if (typeof v === "string") return b.get(v) ?? v;
  if (Array.isArray(v)) return v.map((x) => norm(x, b));
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = norm(x, b);
    return o;
  }
  return v;
}

/** Caddy numbers its handle groups in parse order ("group6"): the number carries no meaning. */
function caddyGroups(v: unknown): unknown {
  if (typeof v === "string") return /^group\d+$/.test(v) ? "group" : v;
  if (Array.isArray(v)) return v.map(caddyGroups);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, caddyGroups(x)]));
  return v;
}

function nginxView(list: NginxDirective[]): unknown {
  return list.map((d) => (d.block ? [d.name, ...d.args, nginxView(d.block)] : [d.name, ...d.args]));
}

function apacheView(list: ApacheDirective[]): unknown {
  return list.map((d) => {
    const args = [...d.args];
    // ErrorDocument's message is an ap_expr string: compare what Apache will send.
    if (d.name === "ErrorDocument" && args.length === 2) {
      try {
        args[1] = apExprString(args[1]!);
      } catch (e) {
        args[1] = `<not a literal: ${(e as Error).message}>`;
      }
    }
    return [d.name, d.depth, ...args];
  });
}

/** sameTree: undefined when `h` is `b` with substitutions applied; else where they differ. */
function sameTree(h: unknown, b: unknown, sub: (s: string) => string, at = "$", quiet = false): string | undefined {
  const fail = (msg: () => string) => (quiet ? "differs" : msg());
  if (typeof b === "string") {
    if (typeof h === "string" && (h === b || h === sub(b))) return undefined;
    return fail(() => `${at}: got ${show(h)}, expected ${show(sub(b))}`);
  }
  if (Array.isArray(b)) {
    if (!Array.isArray(h)) return fail(() => `${at}: got ${show(h)}, expected a list`);
    if (h.length !== b.length) return fail(() => `${at}: ${h.length} entries, expected ${b.length} (hostile: ${show(h)}; benign: ${show(b)})`);
    let inOrder: string | undefined;
    for (let i = 0; i < b.length && !inOrder; i++) inOrder = sameTree(h[i], b[i], sub, `${at}[${i}]`, true);
    if (!inOrder) return undefined;
    // Caddy sorts some lists (routes by host specificity): accept the same entries in another
    // order. Entries equal after substitution pair up by their JSON; the rest one by one.
    const free = new Map<string, number[]>();
    h.forEach((y, k) => free.set(JSON.stringify(y), [...(free.get(JSON.stringify(y)) ?? []), k]));
    const used = new Set<number>();
    const left: unknown[] = [];
    for (const x of b) {
      const ks = free.get(JSON.stringify(mapStrings(x, sub)));
      const k = ks?.find((n) => !used.has(n));
      if (k === undefined) left.push(x);
      else used.add(k);
    }
    for (const x of left) {
      const k = h.findIndex((y, n) => !used.has(n) && !sameTree(y, x, sub, at, true));
      if (k < 0) {
        if (quiet) return "differs";
        // Explain with the in-order comparison, which names the first differing entry.
        for (let i = 0; i < b.length; i++) {
          const p = sameTree(h[i], b[i], sub, `${at}[${i}]`);
          if (p) return p;
        }
        return `${at}: entries differ`;
      }
      used.add(k);
    }
    return undefined;
  }
  if (b && typeof b === "object") {
    if (!h || typeof h !== "object" || Array.isArray(h)) return fail(() => `${at}: got ${show(h)}, expected a mapping`);
    const ho = h as Record<string, unknown>;
    const seen = new Set<string>();
    for (const k of Object.keys(b)) {
      const hk = k in ho ? k : sub(k);
      if (!(hk in ho)) return fail(() => `${at}: key ${show(hk)} missing (hostile keys: ${show(Object.keys(ho))})`);
      seen.add(hk);
      const p = sameTree(ho[hk], (b as Record<string, unknown>)[k], sub, `${at}.${hk}`, quiet);
      if (p) return p;
    }
    const extra = Object.keys(ho).filter((k) => !seen.has(k));
    if (extra.length > 0) return fail(() => `${at}: extra key(s) ${show(extra)}`);
    return undefined;
  }
  return h === b ? undefined : fail(() => `${at}: got ${show(h)}, expected ${show(b)}`);
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k in (v as object) ? f(k) : k, mapStrings(x, f)]));
  return v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 300 ? s.slice(0, 297) + "..." : s;
}
