// Stand-ins for a fixture's homeservers: one recording stub (test/harness/stub.ts) per distinct
// upstream of the site file, reached the way the site file says — TCP on 127.0.0.1, an IPv6
// loopback address (a byte pipe on [::1] in front of the stub), HTTPS (a TLS terminator in front
// of the stub, certificate for `localhost` from a test CA) or a unix socket.
import { createServer as createTcpServer, connect, type Server, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from "node:tls";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { SitePlan, Upstream } from "../../src/index.js";
import { freePorts, startStub, type Stub, type TestPki } from "../harness/servers.ts";

export interface UpstreamEndpoint {
  /** what the loopback site file says instead of the original upstream */
  url: string;
  stub: Stub;
  /** how the proxy must reach the stub: "tcp" or "unix" (as the stub records it) */
  via: "tcp" | "unix";
  /** connections accepted by the [::1] pipe or the TLS terminator (proves the proxy used it) */
  connections: number;
  /** HTTPS upstream only: the SNI names the proxy sent (one per ClientHello that had one) */
  sniSeen: string[];
  /** forget connections and SNI names (between servers) */
  reset(): void;
  /** HTTPS upstream only: present a certificate no trusted CA signed (for the verification probe) */
  presentUntrusted?(on: boolean): void;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  base: string;
  /** the `localhost` certificate of HTTPS upstreams, from a CA the test trusts (for localhost only) */
  trusted: TestPki;
  /** a second test CA nobody trusts */
  untrusted: TestPki;
}

/** Key of an upstream: sites with the same upstream share one stub (as they share a homeserver). */
export function upstreamKey(u: Upstream): string {
  return u.kind === "unix" ? `unix:${u.path}` : u.url;
}

/** startUpstreams starts one endpoint per distinct upstream of `sites`, keyed by upstreamKey. */
export async function startUpstreams(sites: SitePlan[], o: UpstreamOptions): Promise<Map<string, UpstreamEndpoint>> {
  const out = new Map<string, UpstreamEndpoint>();
  let n = 0;
  for (const site of sites) {
    const key = upstreamKey(site.upstream);
    if (!out.has(key)) out.set(key, await startOne(site.upstream, o, n++));
  }
  return out;
}

// --- internal ---

async function startOne(u: Upstream, o: UpstreamOptions, n: number): Promise<UpstreamEndpoint> {
  if (u.kind === "unix") {
    const stub = await startStub({ tcp: false, socketPath: join(o.base, `upstream-${n}.sock`) });
    return endpoint(`unix:${stub.socketPath}`, stub, "unix", () => stub.close());
  }
  const stub = await startStub();
  if (u.scheme === "https") return terminator(stub, o);
  if (u.host.includes(":")) return v6Pipe(stub);
  return endpoint(`http://127.0.0.1:${stub.port}`, stub, "tcp", () => stub.close());
}

function endpoint(url: string, stub: Stub, via: "tcp" | "unix", close: () => Promise<void>): UpstreamEndpoint {
  const ep: UpstreamEndpoint = {
    url, stub, via, connections: 0, sniSeen: [], close,
    reset() {
      stub.clear();
      ep.connections = 0;
      ep.sniSeen.length = 0;
    },
  };
  return ep;
}

/** A byte pipe on [::1] to the stub: the proxy must dial the IPv6 address from the site file. */
async function v6Pipe(stub: Stub): Promise<UpstreamEndpoint> {
  const [port] = await freePorts(1);
  const sockets = new Set<Socket>();
  const ep = endpoint(`http://[::1]:${port}`, stub, "tcp", async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => srv.close(r));
    await stub.close();
  });
  const srv = createTcpServer((client) => {
    ep.connections++;
    pipe(client, stub.port!, sockets);
  });
  await listen(srv, port!, "::1");
  return ep;
}

/** A TLS terminator on 127.0.0.1 for `https://localhost:PORT`, piping the plain bytes to the stub. */
async function terminator(stub: Stub, o: UpstreamOptions): Promise<UpstreamEndpoint> {
  const [port] = await freePorts(1);
  const sockets = new Set<Socket>();
  const contexts = {
    trusted: createSecureContext({ cert: readFileSync(o.trusted.chainFile), key: readFileSync(o.trusted.keyFile) }),
    untrusted: createSecureContext({ cert: readFileSync(o.untrusted.chainFile), key: readFileSync(o.untrusted.keyFile) }),
  };
  let current = contexts.trusted;
  const ep = endpoint(`https://localhost:${port}`, stub, "tcp", async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => srv.close(r));
    await stub.close();
  });
  // SNICallback sees the name of every ClientHello that carries one (resumed sessions included).
  const srv = createTlsServer({
    SNICallback: (name, cb) => {
      ep.sniSeen.push(name);
      cb(null, current);
    },
  });
  srv.on("secureConnection", (tlsSock: TLSSocket) => {
    ep.connections++;
    pipe(tlsSock, stub.port!, sockets);
  });
  srv.on("tlsClientError", () => {
    /* the proxy refused our certificate: that is what the verification probe wants */
  });
  ep.presentUntrusted = (on) => {
    current = on ? contexts.untrusted : contexts.trusted;
    // New ticket keys: a proxy must not resume a session made under the other certificate.
    srv.setTicketKeys(randomBytes(48));
    // Pooled upstream connections were made under the other certificate: drop them.
    for (const s of sockets) s.destroy();
  };
  await listen(srv, port!, "127.0.0.1");
  return ep;
}

function pipe(client: Socket, port: number, sockets: Set<Socket>): void {
  const up = connect({ host: "127.0.0.1", port });
  for (const s of [client, up]) {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => (client.destroy(), up.destroy()));
  }
  client.pipe(up).pipe(client);
}

function listen(srv: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen({ port, host }, () => resolve());
  });
}
