// Discovery as real clients do it, against the live server: matrix-js-sdk's AutoDiscovery for
// the client side, and the server-server spec's "Resolving server names" for m.server. Both use
// undici's fetch with a connector that dials the loopback server for the public name and port
// (a port the fixture listens on is mapped to its loopback port; SNI and Host stay the public
// name), trusting the test CA. Hosts the site file does not serve (an identity server named in
// the client document, …) are "the outside world": a fake answers them and records the URL.
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { AutoDiscovery } from "matrix-js-sdk";
import type { Loopback } from "./loopback.ts";

export interface Outside {
  /** URLs asked of hosts the site file does not serve */
  urls: string[];
}

export type FetchFn = (url: string | URL, init?: Record<string, unknown>) => Promise<Response>;

/** loopbackFetch returns a fetch that reaches the loopback server for the fixture's names. */
export function loopbackFetch(lb: Loopback, outside: Outside): { fetch: FetchFn; close(): Promise<void> } {
  const connector = buildConnector({ ca: lb.pki.ca, maxCachedSessions: 0 });
  const agent = new Agent({
    connect(opts, cb) {
      const port = Number(opts.port) || (opts.protocol === "https:" ? 443 : 80);
      const loop = lb.connectPort(opts.hostname, port);
      if (loop === null) return cb(new Error(`${opts.hostname}:${port} is not a port the site file listens on`), null);
      connector({ ...opts, hostname: "127.0.0.1", port: String(loop), servername: opts.hostname }, cb);
    },
  });
  const served = new Set(lb.names);
  const fetch: FetchFn = async (url, init) => {
    const u = new URL(String(url));
    if (!served.has(u.hostname)) {
      outside.urls.push(u.href);
      return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
    }
    return (await undiciFetch(u, { ...(init as object), dispatcher: agent })) as unknown as Response;
  };
  return { fetch, close: () => agent.close() };
}

// AutoDiscovery's fetch function is global; fixtures run in parallel, so calls take turns.
let queue: Promise<unknown> = Promise.resolve();

/** findClientConfig runs matrix-js-sdk's discovery for `serverName` against the loopback server. */
export function findClientConfig(lb: Loopback, serverName: string): Promise<{ result: Record<string, any>; outside: string[] }> {
  const run = async () => {
    const outside: Outside = { urls: [] };
    const f = loopbackFetch(lb, outside);
    AutoDiscovery.setFetchFn(f.fetch as typeof globalThis.fetch);
    try {
      const result = (await AutoDiscovery.findClientConfig(serverName)) as Record<string, any>;
      return { result, outside: outside.urls };
    } finally {
      AutoDiscovery.setFetchFn(undefined as unknown as typeof globalThis.fetch);
      await f.close();
    }
  };
  const p = queue.then(run, run);
  queue = p.catch(() => undefined);
  return p;
}

export interface Resolved {
  /** which rule of the spec gave the answer */
  rule: "ip-literal" | "explicit-port" | "well-known-ip" | "well-known-port" | "well-known-srv-or-8448" | "srv-or-8448";
  host: string;
  port: number;
  /** Host header and certificate name the spec prescribes for requests to it */
  hostHeader: string;
  sni: string;
  wellKnown?: unknown;
}

const IP = /^(\[[0-9a-fA-F:.]+\]|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/;

/**
 * resolveServerName follows the server-server spec ("Resolving server names", v1.11): IP literal;
 * explicit port; else GET https://NAME/.well-known/matrix/server (30x followed, 200 + valid JSON
 * only) → delegated IP literal / delegated host with port / (SRV, else 8448). SRV lookups are
 * not made here: a name that would need one resolves to rule "…-srv-or-8448" and fails the probe,
 * since mxproxy always writes the port.
 */
export async function resolveServerName(serverName: string, fetch: FetchFn): Promise<Resolved> {
  const split = (s: string) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::([0-9]+))?$/.exec(s);
    return m ? { host: m[1]!, port: m[2] === undefined ? undefined : Number(m[2]) } : undefined;
  };
  const name = split(serverName)!;
  if (IP.test(name.host)) return { rule: "ip-literal", host: name.host, port: name.port ?? 8448, hostHeader: serverName, sni: "" };
  if (name.port !== undefined) return { rule: "explicit-port", host: name.host, port: name.port, hostHeader: serverName, sni: name.host };
  let wellKnown: unknown;
  try {
    const res = await fetch(`https://${name.host}/.well-known/matrix/server`, { redirect: "follow" });
    if (res.status === 200) wellKnown = await res.json();
  } catch {
    wellKnown = undefined;
  }
  const delegated = typeof (wellKnown as { "m.server"?: unknown })?.["m.server"] === "string" ? split((wellKnown as { "m.server": string })["m.server"]) : undefined;
  if (!delegated) return { rule: "srv-or-8448", host: name.host, port: 8448, hostHeader: name.host, sni: name.host, wellKnown };
  const hp = delegated.port === undefined ? delegated.host : `${delegated.host}:${delegated.port}`;
  if (IP.test(delegated.host)) return { rule: "well-known-ip", host: delegated.host, port: delegated.port ?? 8448, hostHeader: hp, sni: "", wellKnown };
  if (delegated.port !== undefined) return { rule: "well-known-port", host: delegated.host, port: delegated.port, hostHeader: hp, sni: delegated.host, wellKnown };
  return { rule: "well-known-srv-or-8448", host: delegated.host, port: 8448, hostHeader: delegated.host, sni: delegated.host, wellKnown };
}
