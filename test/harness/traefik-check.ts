// Checks a Traefik v3 file-provider (dynamic) configuration together with the static
// configuration that loads it. Traefik cannot run here and has no "check config" command, so
// this is the stand-in: the vendored SchemaStore schemas (vendor/traefik/, kept unmodified) plus
// the assertions the schemas cannot express (see vendor/traefik/README.md for what the schemas
// let through). Every message is "<label>:<line>:<col>: <yaml.path>: <problem>".
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";

type Seg = string | number;
type Obj = Record<string, unknown>;

const VENDOR = new URL("../../vendor/traefik/", import.meta.url);

export function checkTraefik(dynamicText: string, staticText: string): string[] {
  return checkLabelled(dynamicText, "dynamic", staticText, "static");
}

export function checkTraefikFiles(dynamicPath: string, staticPath: string): string[] {
  return checkLabelled(readFileSync(dynamicPath, "utf8"), dynamicPath, readFileSync(staticPath, "utf8"), staticPath);
}

function checkLabelled(dynText: string, dynLabel: string, staText: string, staLabel: string): string[] {
  const dyn = load(dynText, dynLabel);
  const sta = load(staText, staLabel);
  const out = [...dyn.errors, ...sta.errors];
  if (dyn.ok) {
    schemaErrors(validators().dynamic, dyn);
    noEmptyValues(dyn, dyn.data, [], DYNAMIC_MAY_BE_EMPTY);
    durations(dyn, dyn.data, []);
    dynamicAssertions(dyn);
  }
  if (sta.ok) {
    schemaErrors(validators().static, sta);
    noEmptyValues(sta, sta.data, [], STATIC_MAY_BE_EMPTY);
    durations(sta, sta.data, []);
    staticAssertions(sta);
  }
  // Cross-file checks need both sides; a side that did not parse has already been reported.
  if (dyn.ok && sta.ok) crossChecks(dyn, sta);
  out.push(...dyn.problems, ...sta.problems);
  return [...new Set(out)];
}

// ---------------------------------------------------------------- parsing and positions

interface Loaded {
  label: string;
  ok: boolean;
  data: unknown;
  doc: Document;
  lines: LineCounter;
  errors: string[]; // YAML syntax errors
  problems: string[]; // everything found afterwards
}

function load(text: string, label: string): Loaded {
  const lines = new LineCounter();
  // uniqueKeys: a duplicated key loses one of its two definitions; make that an error.
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: false });
  const errors = doc.errors.map((e) => {
    const { line, col } = lines.linePos(e.pos[0]);
    return `${label}:${line}:${col}: YAML: ${e.message.split("\n")[0]}`;
  });
  const ok = errors.length === 0;
  const data: unknown = ok ? doc.toJS() : undefined;
  if (ok && !isObj(data)) errors.push(`${label}:1:1: (root): must be a mapping, got ${kind(data)}`);
  return { label, ok: ok && isObj(data), data, doc, lines, errors, problems: [] };
}

/** Line and column of the key (or list item) at `path`, falling back to the nearest ancestor. */
function position(l: Loaded, path: Seg[]): string {
  let node: unknown = l.doc.contents;
  let offset = (node as { range?: number[] } | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as { range?: number[] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as { range?: number[] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  const { line, col } = l.lines.linePos(offset);
  return `${line}:${col}`;
}

function showPath(path: Seg[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((s, i) =>
      typeof s === "number" ? `[${s}]` : /^[A-Za-z_][\w-]*$/.test(s) ? (i ? "." : "") + s : `[${JSON.stringify(s)}]`,
    )
    .join("");
}

function report(l: Loaded, path: Seg[], problem: string): void {
  l.problems.push(`${l.label}:${position(l, path)}: ${showPath(path)}: ${problem}`);
}

// ---------------------------------------------------------------- schema validation

// Gaps in the vendored schemas, closed here instead of editing vendor/ (its README asks to keep
// the files unmodified and to record why a key is added). Each entry: what Traefik v3 has that
// the SchemaStore schema lacks or leaves unchecked.
function patchDynamic(schema: Obj): Obj {
  const http = (schema.properties as Obj).http as Obj;
  // `http` has no additionalProperties:false, so `routres:` or a misplaced key passed silently,
  // and `serversTransports` (per-service upstream timeouts, e.g. forwardingTimeouts.
  // responseHeaderTimeout for long-poll /sync) was accepted without any checking.
  // Keys from vendor/traefik/traefik-v3.7.9-reference-dynamic-file.yaml.
  http.additionalProperties = false;
  (http.properties as Obj).serversTransports = { type: "object", additionalProperties: SERVERS_TRANSPORT };
  // tls.certificates items (certFile/keyFile for `tls: {cert, key}` sites) allowed any key.
  const tls = (schema.properties as Obj).tls as Obj;
  ((tls.properties as Obj).certificates as Obj as { items: Obj }).items.additionalProperties = false;
  return schema;
}

function patchStatic(schema: Obj): Obj {
  // The root has no additionalProperties:false, so any misspelt top-level key passed.
  schema.additionalProperties = false;
  // entryPoints.<name>.http.sanitizePath exists in Traefik v3 (pkg/config/static/entrypoints.go,
  // HTTPConfig.SanitizePath, default true) but not in the schema, which rejects it.
  const httpConfig = (schema.$defs as Obj).staticHTTPConfig as { properties: Obj };
  httpConfig.properties.sanitizePath = { type: "boolean" };
  return schema;
}

const strings = { type: "array", items: { type: "string" } };
const SERVERS_TRANSPORT = {
  type: "object",
  additionalProperties: false,
  properties: {
    serverName: { type: "string" },
    insecureSkipVerify: { type: "boolean" },
    rootCAs: strings,
    certificates: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: { certFile: { type: "string" }, keyFile: { type: "string" } },
      },
    },
    cipherSuites: strings,
    minVersion: { type: "string" },
    maxVersion: { type: "string" },
    maxIdleConnsPerHost: { type: "integer" },
    forwardingTimeouts: {
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(
        ["dialTimeout", "responseHeaderTimeout", "idleConnTimeout", "readIdleTimeout", "pingTimeout"].map((k) => [
          k,
          { type: "string" },
        ]),
      ),
    },
    disableHTTP2: { type: "boolean" },
    peerCertURI: { type: "string" },
    spiffe: {
      type: "object",
      additionalProperties: false,
      properties: { ids: strings, trustDomain: { type: "string" } },
    },
  },
};

let cached: { dynamic: ValidateFunction; static: ValidateFunction } | undefined;

function validators(): { dynamic: ValidateFunction; static: ValidateFunction } {
  if (cached) return cached;
  const read = (f: string): Obj => JSON.parse(readFileSync(new URL(f, VENDOR), "utf8")) as Obj;
  // Both schemas are draft-07 and compile with the default class under strict:true as they are
  // (measured with ajv 8.20), so no relaxing option is needed. allErrors: report every problem
  // in one run; verbose: errors carry the schema and data, used to list the allowed keys.
  const ajv = new Ajv({ strict: true, allErrors: true, verbose: true });
  cached = {
    dynamic: ajv.compile(patchDynamic(read("traefik-v3-file-provider.json"))),
    static: ajv.compile(patchStatic(read("traefik-v3.json"))),
  };
  return cached;
}

function pointerToPath(pointer: string, data: unknown): Seg[] {
  const path: Seg[] = [];
  let cur = data;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const key: Seg = Array.isArray(cur) ? Number(seg) : seg;
    path.push(key);
    cur = (cur as Record<Seg, unknown> | undefined)?.[key];
  }
  return path;
}

function schemaErrors(validate: ValidateFunction, l: Loaded): void {
  if (validate(l.data)) return;
  const errors = validate.errors ?? [];
  // A service or middleware is a oneOf of single-key objects; ajv then reports one
  // "additionalProperties" per branch (~25 for middlewares). Replace that noise with one
  // message; errors deeper inside the one matching branch are kept as they are.
  const drop = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== "oneOf") continue;
    const kinds = singleKeyBranches(e.schema);
    if (!kinds) continue;
    drop.add(e);
    for (const o of errors) {
      if (
        o.instancePath === e.instancePath &&
        o.schemaPath.startsWith(`${e.schemaPath}/`) &&
        o.keyword === "additionalProperties"
      )
        drop.add(o);
    }
    const path = pointerToPath(e.instancePath, l.data);
    const section = path[path.length - 2]; // "middlewares" or "services"
    const what = section === "middlewares" ? "middleware" : section === "services" ? "service" : "value";
    const keys = isObj(e.data) ? Object.keys(e.data) : [];
    const unknown = keys.filter((k) => !kinds.includes(k));
    const known = keys.filter((k) => kinds.includes(k));
    for (const k of unknown)
      report(l, [...path, k], `unknown ${what} type "${k}" (expected exactly one of: ${kinds.join(", ")})`);
    if (!unknown.length && known.length > 1)
      report(l, path, `a ${what} has exactly one type, this one defines ${known.join(" and ")}`);
    // keys.length === 0 is an empty map, reported by noEmptyValues.
  }
  for (const e of errors) {
    if (drop.has(e)) continue;
    const path = pointerToPath(e.instancePath, l.data);
    if (e.keyword === "additionalProperties") {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(((e.parentSchema as Obj | undefined)?.properties as Obj | undefined) ?? {});
      report(
        l,
        [...path, key],
        `unknown key "${key}"${allowed.length ? ` (allowed here: ${allowed.join(", ")})` : ""}`,
      );
    } else if (e.keyword === "required") {
      report(l, path, `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`);
    } else if (e.keyword === "type") {
      report(l, path, `${e.message}, got ${kind(e.data)} ${JSON.stringify(e.data)}`);
    } else {
      report(l, path, e.message ?? e.keyword);
    }
  }
}

function singleKeyBranches(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const names = branches.map((b: Obj) => Object.keys((b.properties as Obj | undefined) ?? {}));
  return names.every((n) => n.length === 1) ? names.map((n) => n[0]!) : undefined;
}

// ---------------------------------------------------------------- generic value checks

// Traefik's decoder (traefik/paerser) rejects a map with no children — "<key> cannot be a
// standalone element" — and then drops the whole file, except for fields tagged
// file:"allowEmpty", where `{}` means "enabled with defaults" (router `tls: {}` is the
// documented way to terminate TLS with file certificates). These lists are those fields.
const DYNAMIC_MAY_BE_EMPTY = [
  "http.routers.*.tls",
  "tcp.routers.*.tls",
  "http.services.*.loadBalancer.sticky",
  "http.services.*.loadBalancer.sticky.cookie",
  "http.services.*.weighted.sticky",
  "http.services.*.weighted.sticky.cookie",
  "http.services.*.weighted.healthCheck",
  "http.services.*.mirroring.healthCheck",
  "http.services.*.failover.healthCheck",
  "http.middlewares.*.compress",
  "http.middlewares.*.contentType",
  "http.middlewares.*.ipAllowList.ipStrategy",
  "http.middlewares.*.ipWhiteList.ipStrategy",
];
const STATIC_MAY_BE_EMPTY = [
  "api",
  "ping",
  "log",
  "accessLog",
  "tracing",
  "tracing.*",
  "hostResolver",
  "metrics.*",
  "providers.docker",
  "providers.swarm",
  "providers.kubernetesIngress",
  "providers.kubernetesCRD",
  "providers.kubernetesGateway",
  "providers.rest",
  "providers.consulCatalog",
  "providers.nomad",
  "providers.ecs",
  "entryPoints.*.http.tls",
  "entryPoints.*.http3",
  "entryPoints.*.proxyProtocol",
  "certificatesResolvers.*.acme.httpChallenge",
  "certificatesResolvers.*.acme.tlsChallenge",
  "certificatesResolvers.*.acme.dnsChallenge",
];

function matches(pattern: string, path: Seg[]): boolean {
  const parts = pattern.split(".");
  return parts.length === path.length && parts.every((p, i) => p === "*" || p === String(path[i]));
}

function noEmptyValues(l: Loaded, value: unknown, path: Seg[], mayBeEmpty: string[]): void {
  if (value === null) {
    // paerser skips nil values: `tls:` with nothing after it silently means "no TLS".
    report(l, path, "empty value (null): Traefik drops the key silently; omit it or give a value");
  } else if (Array.isArray(value)) {
    // paerser turns [] into the empty string, not an empty list.
    if (value.length === 0)
      report(l, path, "empty list: Traefik's file decoder reads [] as an empty string; omit the key");
    value.forEach((v, i) => noEmptyValues(l, v, [...path, i], mayBeEmpty));
  } else if (isObj(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && !mayBeEmpty.some((p) => matches(p, path)))
      report(l, path, 'empty map: Traefik rejects it ("cannot be a standalone element") and ignores the whole file');
    for (const k of keys) noEmptyValues(l, value[k], [...path, k], mayBeEmpty);
  }
}

// Durations are plain strings in the schemas, so "10 min" passed. Traefik (paerser
// types.Duration) takes a Go duration ("600s", "1m30s") or an integer number of seconds.
const DURATION_KEY = /(Timeout|TimeOut|Interval|Duration|^timeout|^keepAliveMaxTime|^delay)$/;
const GO_DURATION = /^[-+]?(\d+|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

function durations(l: Loaded, value: unknown, path: Seg[]): void {
  if (Array.isArray(value)) value.forEach((v, i) => durations(l, v, [...path, i]));
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (DURATION_KEY.test(k) && typeof v === "string" && !GO_DURATION.test(v.trim()))
      report(l, [...path, k], `"${v}" is not a duration (write e.g. "600s" or "1m30s")`);
    durations(l, v, [...path, k]);
  }
}

// ---------------------------------------------------------------- dynamic configuration

const ROUTER_TLS_KEYS = ["options", "certResolver", "domains"];
// Traefik v3 default rule syntax; v2 names (HostHeader, Headers, ...) are errors unless a router
// opts into ruleSyntax: v2.
const V3_MATCHERS = [
  "Host",
  "HostRegexp",
  "Path",
  "PathPrefix",
  "PathRegexp",
  "Method",
  "Header",
  "HeaderRegexp",
  "Query",
  "QueryRegexp",
  "ClientIP",
];

function dynamicAssertions(l: Loaded): void {
  const http = obj(obj(l.data)?.http);
  const services = obj(http?.services) ?? {};
  const middlewares = obj(http?.middlewares) ?? {};
  const transports = obj(http?.serversTransports) ?? {};
  const tlsOptions = obj(obj(obj(l.data)?.tls)?.options) ?? {};
  const ref = (path: Seg[], name: unknown, defined: Obj, what: string): void => {
    if (typeof name !== "string") return; // a wrong type is the schema's report
    const at = name.lastIndexOf("@");
    if (at >= 0) {
      const provider = name.slice(at + 1);
      // @file may live in another file of the provider's directory; @internal is Traefik's own.
      if (provider !== "file" && provider !== "internal")
        report(l, path, `${what} "${name}" belongs to provider "${provider}", which this configuration does not use`);
      return;
    }
    if (!Object.hasOwn(defined, name)) report(l, path, `${what} "${name}" is not defined in http.${what}s`);
  };

  for (const [name, r] of Object.entries(obj(http?.routers) ?? {})) {
    const router = obj(r);
    if (!router) continue;
    const at: Seg[] = ["http", "routers", name];
    if (router.rule === undefined) report(l, at, "router has no rule");
    else if (typeof router.rule === "string")
      for (const p of ruleProblems(router.rule, router.ruleSyntax === "v2")) report(l, [...at, "rule"], p);
    if (router.service === undefined) report(l, at, "router has no service");
    else ref([...at, "service"], router.service, services, "service");
    if (Array.isArray(router.middlewares))
      router.middlewares.forEach((m, i) => ref([...at, "middlewares", i], m, middlewares, "middleware"));
    const tls = obj(router.tls);
    if (tls) {
      // The schema leaves router tls open: a typo such as certResolvr would mean "no ACME".
      for (const k of Object.keys(tls))
        if (!ROUTER_TLS_KEYS.includes(k))
          report(l, [...at, "tls", k], `unknown key "${k}" (allowed here: ${ROUTER_TLS_KEYS.join(", ")})`);
      const opt = tls.options;
      if (typeof opt === "string" && opt !== "default" && !opt.includes("@") && !Object.hasOwn(tlsOptions, opt))
        report(l, [...at, "tls", "options"], `TLS options "${opt}" are not defined in tls.options`);
    }
  }

  for (const [name, s] of Object.entries(services)) {
    const at: Seg[] = ["http", "services", name];
    const lb = obj(obj(s)?.loadBalancer);
    const servers = lb?.servers;
    if (Array.isArray(servers))
      servers.forEach((srv, i) => {
        const url = obj(srv)?.url;
        if (typeof url === "string" && !isHttpUrl(url))
          report(
            l,
            [...at, "loadBalancer", "servers", i, "url"],
            `"${url}" is not an absolute http(s) URL with a host`,
          );
      });
    if (lb) ref([...at, "loadBalancer", "serversTransport"], lb.serversTransport, transports, "serversTransport");
    const weighted = obj(obj(s)?.weighted);
    if (Array.isArray(weighted?.services))
      weighted.services.forEach((w, i) =>
        ref([...at, "weighted", "services", i, "name"], obj(w)?.name, services, "service"),
      );
    const mirroring = obj(obj(s)?.mirroring);
    if (mirroring) {
      ref([...at, "mirroring", "service"], mirroring.service, services, "service");
      if (Array.isArray(mirroring.mirrors))
        mirroring.mirrors.forEach((m, i) =>
          ref([...at, "mirroring", "mirrors", i, "name"], obj(m)?.name, services, "service"),
        );
    }
    const failover = obj(obj(s)?.failover);
    if (failover)
      for (const k of ["service", "fallback"]) ref([...at, "failover", k], failover[k], services, "service");
  }

  for (const [name, m] of Object.entries(middlewares)) {
    const at: Seg[] = ["http", "middlewares", name];
    const chain = obj(obj(m)?.chain)?.middlewares;
    if (Array.isArray(chain))
      chain.forEach((c, i) => ref([...at, "chain", "middlewares", i], c, middlewares, "middleware"));
    const errors = obj(obj(m)?.errors);
    if (errors) ref([...at, "errors", "service"], errors.service, services, "service");
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** Problems in a v3 router rule: quoting, parentheses, operators and matcher names. */
export function ruleProblems(rule: string, v2Syntax = false): string[] {
  if (rule.trim() === "") return ["rule is empty"];
  const problems: string[] = [];
  let depth = 0;
  let bare = ""; // the rule with every quoted value replaced by \u0001
  for (let i = 0; i < rule.length; i++) {
    const c = rule[i]!;
    if (c === "`" || c === '"') {
      let j = i + 1;
      while (j < rule.length && rule[j] !== c) j += c === '"' && rule[j] === "\\" ? 2 : 1;
      if (j >= rule.length) {
        problems.push(`unbalanced ${c === "`" ? "backtick" : "double quote"}: the one at offset ${i} is never closed`);
        return problems;
      }
      bare += "\u0001";
      i = j;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) {
      problems.push(`unbalanced parentheses: ")" at offset ${i} has no "("`);
      return problems;
    }
    bare += c;
  }
  if (depth > 0) problems.push(`unbalanced parentheses: ${depth} "(" never closed`);
  // What may stand outside quotes: matcher names directly before "(", operators, punctuation.
  const token = /\s+|&&|\|\||[()!,\u0001]|([A-Za-z_]\w*)(?=\s*\()/y;
  for (let pos = 0; pos < bare.length; pos = token.lastIndex) {
    token.lastIndex = pos;
    const m = token.exec(bare);
    if (!m) {
      const word = /^[^\s()\u0001]+/.exec(bare.slice(pos))?.[0] ?? bare[pos];
      problems.push(`unexpected "${word}" outside quotes (values go in backticks; operators are &&, || and !)`);
      break;
    }
    if (m[1] && !v2Syntax && !V3_MATCHERS.includes(m[1]))
      problems.push(`unknown matcher "${m[1]}" (v3 has: ${V3_MATCHERS.join(", ")})`);
  }
  return problems;
}

// ---------------------------------------------------------------- static configuration

function staticAssertions(l: Loaded): void {
  const file = obj(obj(obj(l.data)?.providers)?.file);
  const set = (k: string): boolean => typeof file?.[k] === "string" && (file[k] as string).trim() !== "";
  if (!set("filename") && !set("directory"))
    report(
      l,
      file ? ["providers", "file"] : ["providers"],
      "no file provider: set providers.file.filename or .directory, or the dynamic file is never read",
    );
  else if (set("filename") && set("directory"))
    report(l, ["providers", "file"], "both filename and directory are set; Traefik reads only the directory");
}

// ---------------------------------------------------------------- dynamic × static

function crossChecks(dyn: Loaded, sta: Loaded): void {
  const entryPoints = obj(obj(sta.data)?.entryPoints) ?? {};
  const resolvers = obj(obj(sta.data)?.certificatesResolvers) ?? {};
  const epNames = Object.keys(entryPoints).join(", ") || "none";
  const resolverNames = Object.keys(resolvers).join(", ") || "none";

  for (const [name, r] of Object.entries(obj(obj(obj(dyn.data)?.http)?.routers) ?? {})) {
    const router = obj(r);
    const at: Seg[] = ["http", "routers", name];
    if (Array.isArray(router?.entryPoints))
      router.entryPoints.forEach((ep, i) => {
        if (typeof ep === "string" && !Object.hasOwn(entryPoints, ep))
          report(
            dyn,
            [...at, "entryPoints", i],
            `entry point "${ep}" is not defined in the static entryPoints (defined: ${epNames})`,
          );
      });
    const cr = obj(router?.tls)?.certResolver;
    if (typeof cr === "string" && !Object.hasOwn(resolvers, cr))
      report(
        dyn,
        [...at, "tls", "certResolver"],
        `cert resolver "${cr}" is not defined in the static certificatesResolvers (defined: ${resolverNames})`,
      );
  }

  for (const [name, e] of Object.entries(entryPoints)) {
    const http = obj(obj(e)?.http);
    const to = obj(obj(http?.redirections)?.entryPoint)?.to;
    // `to` is an entry point name or a bare port (":443").
    if (typeof to === "string" && !to.startsWith(":") && !Object.hasOwn(entryPoints, to))
      report(
        sta,
        ["entryPoints", name, "http", "redirections", "entryPoint", "to"],
        `entry point "${to}" is not defined (defined: ${epNames})`,
      );
    const cr = obj(http?.tls)?.certResolver;
    if (typeof cr === "string" && !Object.hasOwn(resolvers, cr))
      report(
        sta,
        ["entryPoints", name, "http", "tls", "certResolver"],
        `cert resolver "${cr}" is not defined in certificatesResolvers (defined: ${resolverNames})`,
      );
  }
}

// ---------------------------------------------------------------- small helpers

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
