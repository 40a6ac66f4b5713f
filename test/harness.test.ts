// Tests of the real-server harness itself, with tiny hand-written configs (not mxproxy output):
// if these pass, a failing conformance probe is about the rendered config, not the plumbing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as h from "./harness/servers.ts";
import { makeTestbed, refused, type Testbed } from "./harness/testbed.ts";

const RAW =
  "/_matrix/client/v3/rooms/%21abc%3Aexample.com/state/m.room.member/%40alice%3Aexample.com/a%2Fb?q=%40x&y=%2F";
let tb: Testbed;
let pki: h.TestPki;
let stub: h.Stub;
before(async () => {
  tb = await makeTestbed();
  ({ pki, stub } = tb);
});
after(() => tb?.close());

test("server binaries are installed (never skipped, also with CI=true)", () => {
  for (const bin of ["nginx", "apache2", "caddy", "openssl"]) {
    assert.ok(h.findBinary(bin), `${bin} missing: ${h.SETUP_HINT}`);
  }
});

describe("plumbing", () => {
  test("freePorts hands out distinct, bindable, locked ports", async () => {
    const a = await h.freePorts(5);
    const b = await h.freePorts(5);
    assert.equal(new Set([...a, ...b]).size, 10);
    for (const p of a) assert.ok(existsSync(join(tmpdir(), "mxproxy-test-ports", String(p))));
    h.releasePorts(b);
    assert.ok(!existsSync(join(tmpdir(), "mxproxy-test-ports", String(b[0]))));
  });

  test("test PKI: leaf signed by the CA, SAN = all names, CA:FALSE, readable by nobody", () => {
    const ca = new X509Certificate(pki.ca);
    const leaf = new X509Certificate(readFileSync(pki.certFile));
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(leaf.subjectAltName, "DNS:a.test, DNS:b.test");
    assert.equal(leaf.ca, false);
    for (const f of [pki.caFile, pki.certFile, pki.keyFile]) assert.equal(statSync(f).mode & 0o777, 0o644);
  });

  test("stub records raw target and headers, answers /versions, delays, listens on a 0666 socket", async () => {
    stub.clear();
    const get = (opts: object) =>
      new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
        const t = Date.now();
        request({ host: "127.0.0.1", port: stub.port, ...opts }, (res) => {
          let body = "";
          res
            .on("data", (d) => (body += d))
            .on("end", () => resolve({ status: res.statusCode!, body, ms: Date.now() - t }));
        })
          .on("error", reject)
          .end((opts as { method?: string }).method === "POST" ? "xyz" : undefined);
      });
    const r = await get({ path: RAW, method: "POST", headers: { "X-Test": "One" } });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).url, RAW);
    const rec = stub.requests[0]!;
    assert.equal(rec.url, RAW);
    assert.equal(rec.bodyLength, 3);
    assert.ok(rec.complete);
    assert.deepEqual(
      rec.rawHeaders.find(([k]) => k === "X-Test"),
      ["X-Test", "One"],
    );
    assert.equal(rec.headers["x-test"], "One");
    const v = await get({ path: "/_matrix/client/versions" });
    assert.deepEqual(JSON.parse(v.body), { versions: ["v1.1", "v1.11"] });
    assert.equal(stub.requests.length, 2);
    const slow = await get({ path: "/slow", headers: { "x-stub-delay-ms": "300" } });
    assert.ok(slow.ms >= 290, `delay honoured (${slow.ms} ms)`);
    const viaSock = await get({ socketPath: stub.socketPath, path: "/s%2F" });
    assert.equal(JSON.parse(viaSock.body).via, "unix");
    assert.equal(statSync(stub.socketPath!).mode & 0o777, 0o666);
  });
});

describe("nginx", () => {
  const conf = (https: number, http: number, extra = "") => `server {
    listen ${https} ssl;
    server_name a.test;
    ssl_certificate ${pki.certFile};
    ssl_certificate_key ${pki.keyFile};
    ${extra}
    location /sock/ { proxy_pass http://unix:${stub.socketPath}:; }
    location /slow { proxy_pass http://127.0.0.1:${stub.port}; proxy_read_timeout 1s; }
    location / { proxy_pass http://127.0.0.1:${stub.port}; }
}
server { listen ${http}; server_name a.test; return 301 https://$host$request_uri; }
`;

  test("starts on rendered-style server blocks, proxies raw targets, stops cleanly", async () => {
    const [https, http] = await h.freePorts(2);
    const srv = await h.startNginx(tb.out({ "nginx/a.test.conf": conf(https!, http!) }), {
      workDir: tb.work(),
      ports: [https!, http!],
    });
    try {
      stub.clear();
      const r = await h.probe({ host: "a.test", port: https!, path: RAW, ca: pki.ca });
      assert.equal(r.status, 200, srv.logs());
      assert.equal(stub.requests[0]?.url, RAW);
      // 100 KB: over nginx's 16 KB in-memory buffer, so the body temp folder must work as nobody
      const big = await h.probe({
        host: "a.test",
        port: https!,
        path: "/sock/x%2Fy",
        method: "POST",
        body: Buffer.alloc(100_000),
        ca: pki.ca,
      });
      assert.equal(big.status, 200, srv.logs());
      assert.deepEqual([stub.requests[1]?.via, stub.requests[1]?.bodyLength], ["unix", 100_000]);
      const slow = await h.probe({
        host: "a.test",
        port: https!,
        path: "/slow",
        headers: { "x-stub-delay-ms": 3000 },
        ca: pki.ca,
      });
      assert.equal(slow.status, 504);
      const redir = await h.probe({ scheme: "http", host: "a.test", port: http!, path: "/x?y=1" });
      assert.equal(redir.headers.location, `https://a.test/x?y=1`);
      assert.match(srv.logs(), /error\.log/);
    } finally {
      await srv.stop();
    }
    assert.ok(await refused(https!), "port released after stop");
    assert.throws(() => process.kill(srv.pid, 0), "master gone");
  });

  test("a broken config makes start throw with nginx -t output", async () => {
    const [p] = await h.freePorts(1);
    const dir = tb.out({ "nginx/a.test.conf": conf(p!, p!, "bogus_directive on;") });
    await assert.rejects(
      h.startNginx(dir, { workDir: tb.work(), ports: [p!] }),
      /syntax check failed[\s\S]*unknown directive "bogus_directive"/,
    );
    assert.ok(await refused(p!));
  });
});
