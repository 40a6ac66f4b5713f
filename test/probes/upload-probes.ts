// Upload-limit probes: a body of exactly max_upload passes whole; over it — declared
// (Content-Length) or not (HTTP/1.1 chunked, HTTP/2 without content-length) — the proxy refuses
// and the upstream sees nothing, not even the headers. Bodies are streamed and stop as soon as
// the proxy answers; they are "heavy" (run.ts runs only a few at once).
import type { SitePlan } from "../../src/index.js";
import { upload, uploadH2 } from "./http.ts";
import { ensure, recordsOf, MARK, SETTLE_MS, type Env } from "./exchange.ts";
import type { Loopback } from "./loopback.ts";
import type { Probe } from "./plan-probes.ts";

export function uploadProbes(lb: Loopback, s: SitePlan): Probe[] {
  const i = s.index;
  const out: Probe[] = [];
  const add = (behaviour: string, name: string, observe: Probe["observe"], check: Probe["check"]) =>
    out.push({ behaviour, name: `${s.serverName}: ${name}`, observe, check, heavy: true });
  const bytes = s.maxUpload.bytes;
  const up = (env: Env, mode: "length" | "chunked", size: number, declared?: number) => {
    const marker = env.marker();
    return upload({ port: s.listen.https, sni: s.host, hostHeader: `${s.host}:${s.listen.https}`, target: "/_matrix/media/v3/upload?filename=probe.bin", ca: lb.pki.ca, headers: { [MARK]: marker }, mode, bytes: size, declared }).then(async (r) => {
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      return { ...r, ...recordsOf(env, marker, i) };
    });
  };
  add("upload-under", `POST exactly max_upload (${s.maxUpload.text} = ${bytes} bytes)`, (env) => up(env, "length", bytes), (o) => {
    ensure(o.status === 200, `status ${o.status} ${o.error ?? ""} after sending ${o.sent} bytes`);
    ensure(o.records.length === 1 && o.elsewhere === 0, `upstream saw it ${o.records.length}× (other upstreams ${o.elsewhere}×)`);
    ensure(o.records[0].bodyLength === bytes && o.records[0].complete, `upstream got ${o.records[0].bodyLength} of ${bytes} bytes (complete: ${o.records[0].complete})`);
  });
  add("upload-over", `POST Content-Length max_upload + 1`, (env) => up(env, "length", bytes + 1), (o) => {
    ensure(o.status === 413, `status ${o.status} ${o.error ?? ""} (want 413) after sending ${o.sent} bytes`);
    ensure(o.reached === 0, `the upstream saw ${o.reached} request(s): ${seen(o)}`);
  });
  add("upload-chunked", `POST chunked max_upload + 256 KiB`, (env) => up(env, "chunked", bytes + 256 * 1024), (o) => {
    ensure(o.status === 413, `status ${o.status} ${o.error ?? ""} (want 413) after sending ${o.sent} bytes`);
    ensure(o.reached === 0, `the upstream saw ${o.reached} request(s): ${seen(o)}`);
  });

  // HTTP/2 frames bodies itself: a limit enforced on Content-Length or Transfer-Encoding alone misses the unsized case.
  const up2 = (env: Env, mode: "length" | "unsized", size: number) => {
    const marker = env.marker();
    return uploadH2({ port: s.listen.https, sni: s.host, hostHeader: `${s.host}:${s.listen.https}`, target: "/_matrix/media/v3/upload?filename=probe.bin", ca: lb.pki.ca, headers: { [MARK]: marker }, mode, bytes: size }).then(async (r) => {
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      return { ...r, ...recordsOf(env, marker, i) };
    });
  };
  add("upload-over", `HTTP/2 POST content-length max_upload + 1`, (env) => up2(env, "length", bytes + 1), (o) => {
    ensure(o.status === 413 || (o.status === null && /RST code/.test(o.error ?? "")), `status ${o.status} ${o.error ?? ""} (want 413 or a reset stream) after sending ${o.sent} bytes`);
    ensure(o.reached === 0, `the upstream saw ${o.reached} request(s): ${seen(o)}`);
  });
  add("upload-chunked", `HTTP/2 POST without content-length, max_upload + 256 KiB`, (env) => up2(env, "unsized", bytes + 256 * 1024), (o) => {
    ensure(o.status === 413 || (o.status === null && /RST code/.test(o.error ?? "")), `status ${o.status} ${o.error ?? ""} (want 413 or a reset stream) after sending ${o.sent} bytes`);
    ensure(o.reached === 0, `the upstream saw ${o.reached} request(s): ${seen(o)}`);
  });

  return out;
}

// --- internal ---

/** What the upstream got of an upload: "headers + 1048576 of 52428801 body bytes (incomplete)". */
function seen(o: { records: { bodyLength: number; complete: boolean }[]; sent: number; status: number | null }): string {
  return o.records.map((r) => `headers + ${r.bodyLength} body bytes${r.complete ? "" : " (incomplete)"}`).join("; ") + ` — client sent ${o.sent} bytes, got status ${o.status}`;
}

