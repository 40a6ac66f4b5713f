// One HTTP(S) request to a server on loopback under a chosen Host/SNI, with the request target
// sent exactly as given (no URL normalisation: raw-path probes depend on that).
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ProbeRequest {
  /** https (default) or http */
  scheme?: "https" | "http";
  /** name used for SNI, certificate verification and the Host header */
  host: string;
  port: number;
  /** raw request target, e.g. "/_matrix/client/v3/rooms/%21abc%3Aexample.com?x=1" */
  path: string;
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** CA to trust (the test PKI's); required for https */
  ca?: Buffer;
  /** Host header override (default host, plus :port when not 443/80) */
  hostHeader?: string;
  timeoutMs?: number;
}

export interface ProbeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** raw header pairs as received, to spot duplicated headers */
  rawHeaders: [string, string][];
  body: Buffer;
  text: string;
}

export function probe(r: ProbeRequest): Promise<ProbeResponse> {
  const https = (r.scheme ?? "https") === "https";
  const defaultPort = https ? 443 : 80;
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: "127.0.0.1", // always loopback; the name only travels in SNI and Host
        port: r.port,
        path: r.path,
        method: r.method ?? "GET",
        headers: {
          host: r.hostHeader ?? (r.port === defaultPort ? r.host : `${r.host}:${r.port}`),
          ...r.headers,
        },
        agent: false, // fresh connection: no keep-alive state shared between probes
        ...(https ? { servername: r.host, ca: r.ca } : {}),
        timeout: r.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const rawHeaders: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            rawHeaders.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders,
            body,
            text: body.toString("utf8"),
          });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`probe ${r.host}:${r.port}${r.path} timed out`)));
    req.on("error", reject);
    req.end(r.body);
  });
}
