// The probes' HTTP client: one HTTP/1.1 request to 127.0.0.1 under a chosen SNI and Host, the
// request target sent exactly as given, failures (refused handshake, reset) returned as data.
// Uploads go over a raw TLS socket so the body can be streamed, chunked, and stopped as soon as
// the proxy answers (a proxy that refuses on Content-Length answers before the body is sent).
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as h2Connect, constants as h2 } from "node:http2";

export interface Req {
  scheme: "https" | "http";
  /** connect to 127.0.0.1:port */
  port: number;
  /** SNI (https) */
  sni: string;
  /** Host header, exactly */
  hostHeader: string;
  /** raw request target */
  target: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  ca: Buffer;
  /** skip certificate verification (probes with an SNI we do not serve) */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface Res {
  /** null when no HTTP response arrived (refused handshake, reset, timeout) */
  status: number | null;
  error?: string;
  headers: IncomingHttpHeaders;
  rawHeaders: [string, string][];
  body: Buffer;
  ms: number;
}

export function send(r: Req): Promise<Res> {
  const t0 = performance.now();
  const fail = (e: Error): Res => ({ status: null, error: `${(e as NodeJS.ErrnoException).code ?? ""} ${e.message}`.trim(), headers: {}, rawHeaders: [], body: Buffer.alloc(0), ms: performance.now() - t0 });
  return new Promise((resolve) => {
    const https = r.scheme === "https";
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: "127.0.0.1",
        port: r.port,
        path: r.target,
        method: r.method ?? "GET",
        setHost: false,
        headers: { Host: r.hostHeader, ...r.headers, ...(r.body ? { "Content-Length": String(r.body.length) } : {}) },
        agent: false,
        timeout: r.timeoutMs ?? 10_000,
        ...(https ? { servername: r.sni, ca: r.ca, rejectUnauthorized: !r.insecure, ALPNProtocols: ["http/1.1"] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => resolve(fail(e)));
        res.on("end", () => {
          const raw: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          resolve({ status: res.statusCode ?? null, headers: res.headers, rawHeaders: raw, body: Buffer.concat(chunks), ms: performance.now() - t0 });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${r.timeoutMs ?? 10_000} ms`)));
    req.on("error", (e) => resolve(fail(e)));
    req.end(r.body);
  });
}

export interface Upload {
  port: number;
  sni: string;
  hostHeader: string;
  target: string;
  ca: Buffer;
  headers: Record<string, string>;
  /** "length": Content-Length = declared, body streamed up to `bytes`; "chunked": chunked body of `bytes` */
  mode: "length" | "chunked";
  declared?: number;
  bytes: number;
  timeoutMs?: number;
}

export interface UploadRes {
  status: number | null;
  error?: string;
  /** body bytes written before the answer (or the end) */
  sent: number;
  ms: number;
}

const CHUNK = Buffer.alloc(1 << 20, 0x61);
const HEADER_GRACE_MS = 100;

/** upload streams a request body over HTTP/1.1 + TLS and stops writing once a status line arrives. */
export function upload(u: Upload): Promise<UploadRes> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock: Socket = tlsConnect({ host: "127.0.0.1", port: u.port, servername: u.sni, ca: u.ca, ALPNProtocols: ["http/1.1"] });
    let head = "";
    let sent = 0;
    let status: number | null = null;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status, ...(error && status === null ? { error } : {}), sent, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(`no answer within ${u.timeoutMs ?? 30_000} ms`), u.timeoutMs ?? 30_000);
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      const m = /^HTTP\/1\.[01] ([0-9]{3})/.exec(head);
      if (m && head.includes("\r\n\r\n")) {
        status = Number(m[1]);
        finish();
      }
    });
    // A write can fail (EPIPE) because the proxy already answered and closed: the answer may
    // still be in the receive buffer, so only "close" (or the timer) ends the upload.
    let writeError: string | undefined;
    sock.on("error", (e) => (writeError ??= `${(e as NodeJS.ErrnoException).code ?? ""} ${e.message}`.trim()));
    sock.on("close", () => finish(writeError ?? "connection closed without an answer"));
    sock.once("secureConnect", async () => {
      const lines = [`POST ${u.target} HTTP/1.1`, `Host: ${u.hostHeader}`, "Content-Type: application/octet-stream", ...Object.entries(u.headers).map(([k, v]) => `${k}: ${v}`)];
      lines.push(u.mode === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${u.declared ?? u.bytes}`);
      if (!(await write(sock, Buffer.from(`${lines.join("\r\n")}\r\n\r\n`)))) return;
      // A proxy that decides on the headers answers now; give it a moment before the body.
      await new Promise((r) => setTimeout(r, HEADER_GRACE_MS));
      while (sent < u.bytes && status === null && !done) {
        const piece = CHUNK.subarray(0, Math.min(CHUNK.length, u.bytes - sent));
        const framed = u.mode === "chunked" ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
        if (!(await write(sock, framed))) return;
        sent += piece.length;
      }
      if (u.mode === "chunked" && status === null && !done) await write(sock, Buffer.from("0\r\n\r\n"));
    });
  });
}

/**
 * uploadH2 sends the body on an HTTP/2 stream: with `content-length` ("length") or without
 * ("unsized": HTTP/2 frames the body itself, so a proxy sees neither Content-Length nor
 * Transfer-Encoding). A reset stream is a refusal too: status null, error names the code.
 */
export function uploadH2(u: Omit<Upload, "mode"> & { mode: "length" | "unsized" }): Promise<UploadRes> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const session = h2Connect(`https://127.0.0.1:${u.port}`, { servername: u.sni, ca: u.ca });
    const finish = (status: number | null, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve({ status, ...(error && status === null ? { error } : {}), sent, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(null, `no answer within ${u.timeoutMs ?? 30_000} ms`), u.timeoutMs ?? 30_000);
    session.on("error", (e) => finish(null, e.message));
    const stream = session.request({
      [h2.HTTP2_HEADER_METHOD]: "POST",
      [h2.HTTP2_HEADER_PATH]: u.target,
      [h2.HTTP2_HEADER_AUTHORITY]: u.hostHeader,
      "content-type": "application/octet-stream",
      ...(u.mode === "length" ? { "content-length": String(u.declared ?? u.bytes) } : {}),
      ...u.headers,
    });
    stream.on("response", (headers) => finish(Number(headers[h2.HTTP2_HEADER_STATUS])));
    stream.on("close", () => finish(null, `stream closed without an answer (RST code ${stream.rstCode})`));
    stream.on("error", () => undefined); // close follows with the code
    (async () => {
      await new Promise((r) => setTimeout(r, HEADER_GRACE_MS));
      while (sent < u.bytes && !done) {
        const piece = CHUNK.subarray(0, Math.min(CHUNK.length, u.bytes - sent));
        const ok = await new Promise<boolean>((r) => (stream.destroyed ? r(false) : stream.write(piece, (err) => r(!err))));
        if (!ok) return;
        sent += piece.length;
      }
      if (!done && !stream.destroyed) stream.end();
    })();
  });
}

function write(sock: Socket, data: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve(false);
    sock.write(data, (err) => resolve(!err && !sock.destroyed));
  });
}

/** A plain TCP connect to 127.0.0.1:port that reports whether anything listens. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** handshake connects with exactly TLS `version`, verifying the certificate for `sni`; returns the protocol or the error. */
export function handshake(port: number, sni: string, ca: Buffer, version: "TLSv1.2" | "TLSv1.3"): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: "127.0.0.1", port, servername: sni, ca, minVersion: version, maxVersion: version });
    s.once("secureConnect", () => (resolve(s.getProtocol() ?? "?"), s.destroy()));
    s.once("error", (e) => resolve(e.message));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
