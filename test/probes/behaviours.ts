// The behaviours the conformance suite proves (rows of the README's behaviour table) and the
// differences a backend cannot avoid. A difference is not a skip: the probe still runs on that
// backend and must show exactly the stated alternative; if the backend starts behaving like the
// others, the probe fails until the entry is removed.

export type Backend = "nginx" | "apache" | "caddy";
export const LIVE_BACKENDS: Backend[] = ["nginx", "apache", "caddy"];

export interface Behaviour {
  id: string;
  title: string;
}

export const BEHAVIOURS: Behaviour[] = [
  { id: "syntax", title: "Rendered files pass the real parser (nginx -t, apache2 -t, caddy validate, caddy fmt unchanged; Traefik: schema + checker)" },
  { id: "tls", title: "TLS from the site file: each name's certificate verifies under its SNI, TLS 1.2 and 1.3" },
  { id: "wk-body", title: "Well-known documents: 200, bytes equal out/well-known, JSON deep-equals the Plan" },
  { id: "wk-type", title: "Well-known: exactly one Content-Type, `application/json`" },
  { id: "wk-cors", title: "Well-known: `Access-Control-Allow-Origin: *` (plus -Methods, -Headers), also on the client document's `http://` redirect" },
  { id: "wk-head", title: "Well-known: HEAD answers 200 with the same headers and no body" },
  { id: "wk-unserved", title: "Unserved `/.well-known/matrix/*` (support not configured, other names) → 404 on both hosts, never proxied" },
  { id: "name-only", title: "The server name (when not the homeserver host) serves only the documents: other paths 404, never proxied" },
  { id: "fwd-host", title: "Upstream sees `Host` = the homeserver host" },
  { id: "fwd-xff", title: "Upstream sees `X-Forwarded-For` = client address; a client-sent one does not survive" },
  { id: "fwd-proto", title: "Upstream sees `X-Forwarded-Proto: https`; a client-sent one does not survive" },
  { id: "methods", title: "PUT, DELETE, OPTIONS (CORS preflight), PATCH reach the upstream unchanged" },
  { id: "raw-path", title: "Raw request target (`%21 %3A %40 %2F %252F %23 %3F`, `//`, query) reaches the upstream byte for byte" },
  { id: "upload-under", title: "A body of exactly `max_upload` bytes reaches the upstream whole" },
  { id: "upload-over", title: "`Content-Length` over `max_upload` → 413, the upstream sees nothing" },
  { id: "upload-chunked", title: "A chunked body over `max_upload` is refused, the upstream sees nothing" },
  { id: "redirect", title: "`http://` on both names → 301/308 to `https://` with raw path and query (`http: false`: no redirect)" },
  { id: "federation", title: "Federation listener (`federation.port` ≠ `listen.https`) proxies `/_matrix/federation` and `/_matrix/key`" },
  { id: "unknown-host", title: "Unknown Host or SNI never reaches the upstream (421/403/404/444 or refused handshake)" },
  { id: "timeout", title: "Upstream slower than `timeout` → 502/504 after ≈ timeout; a faster answer passes" },
  { id: "upstream-kind", title: "Upstream dialled as the site file says (TCP, `[::1]`, unix socket, HTTPS: verified, SNI = upstream host)" },
  { id: "client-discovery", title: "matrix-js-sdk `AutoDiscovery.findClientConfig(server_name)` → SUCCESS with the Plan's `base_url`" },
  { id: "server-discovery", title: "`m.server` resolved by the server-server rules to the Plan's host:port; a federation request there is proxied" },
];

export interface ExpectedDifference {
  /** why this backend cannot do what the others do (shown in the README table) */
  reason: string;
  /** what the backend must show instead; throws when it does not */
  check(obs: unknown): void;
  /** the difference holds only for probes with this tag (e.g. sites with an HTTPS upstream) */
  onlyWith?: string;
}

/** behaviour id → backend → the stated alternative. */
const lengthRequired = (reason: string): ExpectedDifference => ({
  reason,
  check(obs) {
    const o = obs as { status: number | null; reached: number };
    if (o.status !== 411) throw new Error(`expected 411 Length Required, got ${o.status}`);
    if (o.reached !== 0) throw new Error(`the upstream saw ${o.reached} request(s)`);
  },
});

/** behaviour id → backend → the stated alternative. */
export const EXPECTED_DIFFERENCES: Record<string, Partial<Record<Backend, ExpectedDifference>>> = {
  "fwd-host": {
    apache: {
      onlyWith: "https-upstream",
      reason:
        "with an HTTPS upstream, Host is the upstream's own name and the public one is in X-Forwarded-Host: Apache sends a preserved Host as SNI and checks the upstream's certificate against it (`ProxyPreserveHost off` there)",
      check(obs) {
        const records = (obs as { records: { headers: Record<string, string | string[] | undefined> }[] }).records;
        if (records.length !== 1) throw new Error(`the upstream saw ${records.length} requests, want 1`);
        const h = records[0]!.headers;
        if (!/^localhost(:[0-9]+)?$/.test(String(h.host ?? ""))) throw new Error(`upstream Host ${h.host}, want the upstream's own name`);
        if (!/^matrix\./.test(String(h["x-forwarded-host"] ?? ""))) throw new Error(`X-Forwarded-Host ${h["x-forwarded-host"]}, want the public name`);
      },
    },
  },
  "upload-chunked": {
    apache: lengthRequired(
      "411 Length Required for any body without Content-Length (HTTP/1.1 chunked, HTTP/2 unsized): `LimitRequestBody` does not cover proxied bodies, so only a declared length can be checked before the homeserver sees the request",
    ),
    caddy: lengthRequired(
      "411 Length Required for any body without Content-Length (HTTP/1.1 chunked, HTTP/2 unsized): Caddy 2.6 cannot buffer a body before proxying, and `request_body max_size` trips only after the homeserver got the headers and `max_upload` bytes",
    ),
  },
};
