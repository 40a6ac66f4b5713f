// Stub upstream standing in for the homeserver: records what the proxy actually forwarded
// (raw request target, raw header pairs, body length) so probes can assert on it.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { chmodSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { freePorts } from "./ports.ts";

export interface StubRecord {
  method: string;
  /** request target exactly as received (req.url): no decoding, query included */
  url: string;
  /** raw header pairs in arrival order, names as sent */
  rawHeaders: [string, string][];
  /** lower-cased name → value (repeated headers joined with ", " as node does) */
  headers: Record<string, string>;
  /** body bytes received so far */
  bodyLength: number;
  /** true once the whole body arrived (false: the proxy gave up mid-body) */
  complete: boolean;
  /** 'tcp' or 'unix': which listener the proxy used */
  via: "tcp" | "unix";
}

export interface Stub {
  /** TCP port on 127.0.0.1, when listening on TCP */
  port?: number;
  socketPath?: string;
  /** every request so far, oldest first (the live array) */
  readonly requests: StubRecord[];
  clear(): void;
  close(): Promise<void>;
}

export interface StubOptions {
  /** listen on 127.0.0.1 (default true) */
  tcp?: boolean;
  /** also (or only) listen on this unix socket path; its folder must be traversable by nobody */
  socketPath?: string;
}

// matrix-js-sdk's AutoDiscovery validates the base URL by calling this endpoint.
const VERSIONS = JSON.stringify({ versions: ["v1.1", "v1.11"] });

export async function startStub(opts: StubOptions = {}): Promise<Stub> {
  const requests: StubRecord[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const handler = (via: "tcp" | "unix") => (req: IncomingMessage, res: import("node:http").ServerResponse) => {
    // Recorded as soon as the headers arrive: a proxy that forwards headers and then aborts the
    // body (Caddy 2.6 request_body max_size) must still show up as "the upstream saw it".
    const rawHeaders: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      rawHeaders.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    const record: StubRecord = {
      method: req.method ?? "",
      url: req.url ?? "",
      rawHeaders,
      headers,
      bodyLength: 0,
      complete: false,
      via,
    };
    requests.push(record);
    req.on("data", (chunk: Buffer) => (record.bodyLength += chunk.length));
    req.on("end", () => {
      record.complete = true;
      const body = req.method === "GET" && req.url === "/_matrix/client/versions" ? VERSIONS : JSON.stringify(record);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      // Delay before the response headers: lets tests exercise the proxy's upstream timeout.
      const delay = Number(req.headers["x-stub-delay-ms"] ?? 0);
      if (delay > 0) {
        const t = setTimeout(() => (timers.delete(t), send()), delay);
        timers.add(t);
      } else send();
    });
  };

  const servers: Server[] = [];
  const listen = (srv: Server, arg: { port: number; host: string } | { path: string }) =>
    new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(arg, () => resolve());
    });
  const make = (via: "tcp" | "unix") => {
    const srv = createServer(handler(via));
    // Proxies keep upstream connections alive; track them so close() does not hang.
    srv.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    servers.push(srv);
    return srv;
  };

  const stub: Stub = {
    requests,
    clear: () => void requests.splice(0),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      if (opts.socketPath) rmSync(opts.socketPath, { force: true });
    },
  };

  if (opts.tcp !== false) {
    const [port] = await freePorts(1);
    await listen(make("tcp"), { port: port!, host: "127.0.0.1" });
    stub.port = port;
  }
  if (opts.socketPath) {
    rmSync(opts.socketPath, { force: true }); // a leftover socket file makes listen fail EADDRINUSE
    await listen(make("unix"), { path: opts.socketPath });
    // nginx/Apache workers connect as nobody.
    chmodSync(opts.socketPath, 0o666);
    stub.socketPath = opts.socketPath;
  }
  return stub;
}
