// A model of how Traefik v3 routes a request through a file-provider configuration: entry point
// by port, routers of that entry point (TLS routers for TLS requests only), rule evaluation
// (Host, Path, PathPrefix, Method, && || ! and parentheses), highest priority first (default:
// rule length), then the router's middlewares and service. Traefik cannot run here; this lets the
// Traefik test ask the same questions the live probes ask of the other three servers.

type Obj = Record<string, any>;

export interface TraefikRequest {
  port: number;
  tls: boolean;
  host: string;
  path: string;
  method?: string;
}

export interface Routed {
  routerName: string;
  router: Obj;
  /** middleware definitions in chain order (each `{ name, def }`) */
  middlewares: { name: string; def: Obj }[];
  serviceName: string;
  service: Obj | undefined;
  /** the path after addPrefix / stripPrefix middlewares */
  upstreamPath: string;
}

export class TraefikModel {
  readonly entryPoints: Map<string, { port: number; def: Obj }>;

  constructor(
    readonly dynamic: Obj,
    readonly staticConf: Obj,
  ) {
    this.entryPoints = new Map(
      Object.entries((staticConf.entryPoints ?? {}) as Obj).map(([name, def]) => [name, { port: Number(/:(\d+)$/.exec(String(def.address))?.[1]), def }]),
    );
  }

  entryPointFor(port: number): string | undefined {
    return [...this.entryPoints].find(([, ep]) => ep.port === port)?.[0];
  }

  /** route returns what Traefik would do with `req`, or null (no router: Traefik answers 404). */
  route(req: TraefikRequest): Routed | null {
    const ep = this.entryPointFor(req.port);
    if (!ep) return null;
    const routers = Object.entries((this.dynamic.http?.routers ?? {}) as Obj)
      .filter(([, r]) => (r.entryPoints ?? [...this.entryPoints.keys()]).includes(ep))
      .filter(([, r]) => (r.tls !== undefined) === req.tls)
      .filter(([, r]) => evaluate(parse(String(r.rule)), req))
      .sort(([an, a], [bn, b]) => priority(b) - priority(a) || an.localeCompare(bn));
    const hit = routers[0];
    if (!hit) return null;
    const [routerName, router] = hit;
    const middlewares = ((router.middlewares ?? []) as string[]).map((name) => ({ name, def: this.dynamic.http?.middlewares?.[name] as Obj }));
    let upstreamPath = req.path;
    for (const m of middlewares) {
      if (m.def?.addPrefix) upstreamPath = `${m.def.addPrefix.prefix}${upstreamPath}`;
      if (m.def?.stripPrefix) for (const p of m.def.stripPrefix.prefixes ?? []) if (upstreamPath.startsWith(p)) upstreamPath = upstreamPath.slice(p.length) || "/";
    }
    const serviceName = String(router.service);
    return { routerName, router, middlewares, serviceName, service: this.dynamic.http?.services?.[serviceName], upstreamPath };
  }
}

function priority(r: Obj): number {
  return r.priority ?? String(r.rule).length;
}

// --- rules ---

type Node = { op: "and" | "or"; a: Node; b: Node } | { op: "not"; a: Node } | { op: "match"; name: string; args: string[] };

export function parse(rule: string): Node {
  const tokens = [...rule.matchAll(/\s*(&&|\|\||!|\(|\)|,|`[^`]*`|"(?:[^"\\]|\\.)*"|[A-Za-z]+)/gy)].map((m) => m[1]!);
  if (tokens.join("").replace(/\s/g, "") !== rule.replace(/\s/g, "")) throw new Error(`cannot tokenise rule ${JSON.stringify(rule)}`);
  let i = 0;
  const expect = (t: string) => {
    if (tokens[i++] !== t) throw new Error(`rule ${JSON.stringify(rule)}: expected ${t} at token ${i}`);
  };
  const expr = (): Node => {
    let a = term();
    while (tokens[i] === "||") (i++, (a = { op: "or", a, b: term() }));
    return a;
  };
  const term = (): Node => {
    let a = factor();
    while (tokens[i] === "&&") (i++, (a = { op: "and", a, b: factor() }));
    return a;
  };
  const factor = (): Node => {
    const t = tokens[i++];
    if (t === "!") return { op: "not", a: factor() };
    if (t === "(") {
      const e = expr();
      expect(")");
      return e;
    }
    if (!t || !/^[A-Za-z]+$/.test(t)) throw new Error(`rule ${JSON.stringify(rule)}: unexpected ${t}`);
    expect("(");
    const args: string[] = [];
    while (tokens[i] !== ")") {
      const a = tokens[i++]!;
      args.push(a.startsWith("`") ? a.slice(1, -1) : (JSON.parse(a) as string));
      if (tokens[i] === ",") i++;
    }
    expect(")");
    return { op: "match", name: t, args };
  };
  const n = expr();
  if (i !== tokens.length) throw new Error(`rule ${JSON.stringify(rule)}: trailing tokens`);
  return n;
}

function evaluate(n: Node, req: TraefikRequest): boolean {
  switch (n.op) {
    case "and":
      return evaluate(n.a, req) && evaluate(n.b, req);
    case "or":
      return evaluate(n.a, req) || evaluate(n.b, req);
    case "not":
      return !evaluate(n.a, req);
    case "match":
      return matcher(n.name, n.args, req);
  }
}

function matcher(name: string, args: string[], req: TraefikRequest): boolean {
  const host = req.host.replace(/:\d+$/, "").toLowerCase();
  const path = req.path.split("?")[0]!;
  switch (name) {
    case "Host":
      return args.some((a) => a.toLowerCase() === host);
    case "Path":
      return args.includes(path);
    case "PathPrefix":
      return args.some((a) => path.startsWith(a));
    case "Method":
      return args.includes(req.method ?? "GET");
    default:
      throw new Error(`the Traefik model does not know matcher ${name}()`);
  }
}
