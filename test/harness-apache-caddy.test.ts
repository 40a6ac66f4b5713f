// Harness tests for Apache and Caddy (nginx and the plumbing are in harness.test.ts; two files
// also exercise running servers from parallel test processes).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as h from "./harness/servers.ts";
import { makeTestbed, refused, type Testbed } from "./harness/testbed.ts";

const RAW =
  "/_matrix/client/v3/rooms/%21abc%3Aexample.com/state/m.room.member/%40alice%3Aexample.com/a%2Fb?q=%40x&y=%2F";
let tb: Testbed;
before(async () => (tb = await makeTestbed()));
after(() => tb?.close());

describe("apache", () => {
  const MODS = "# Apache modules needed beyond Debian's defaults (a2enmod): headers http2 proxy proxy_http rewrite ssl";
  const vhosts = (https: number, http: number, wk: string, extra = "") => `${MODS}
# Ports the virtual hosts use (add the missing ones to ports.conf as "Listen PORT"): ${https} ${http}
<VirtualHost *:${https}>
  ServerName a.test
  SSLEngine on
  SSLCertificateFile ${tb.pki.certFile}
  SSLCertificateKeyFile ${tb.pki.keyFile}
  AllowEncodedSlashes NoDecode
  ProxyPreserveHost on
  ${extra}
  Alias /.well-known/matrix/ ${wk}/
  <Directory ${wk}>
    Require all granted
    ForceType application/json
  </Directory>
  ProxyPass /.well-known/matrix/ !
  ProxyPass /sock/ unix:${tb.stub.socketPath}|http://localhost/sock/ nocanon
  ProxyPass / http://127.0.0.1:${tb.stub.port}/ nocanon
</VirtualHost>
<VirtualHost *:${http}>
  ServerName a.test
  RewriteEngine on
  RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=301,L]
</VirtualHost>
`;

  test("modules and Listen come from the header lines; proxies raw targets; serves files as nobody", async () => {
    const [https, http] = await h.freePorts(2);
    const outDir = tb.out({
      "apache/a.test.conf": vhosts(https!, http!, "@OUT@/wk"),
      "wk/client": '{"m.homeserver":{"base_url":"https://a.test"}}\n',
    });
    chmodSync(join(outDir, "wk"), 0o700); // like a mktemp folder: the harness must open it up for nobody
    const workDir = tb.work();
    const srv = await h.startApache(outDir, { workDir, ports: [https!, http!] });
    try {
      const wrapper = readFileSync(join(workDir, "apache", "apache2.conf"), "utf8");
      assert.match(wrapper, new RegExp(`^Listen 127\\.0\\.0\\.1:${https}$`, "m"));
      assert.match(wrapper, /socache_shmcb\.load/, "ssl's Depends: line is followed, as a2enmod does");
      tb.stub.clear();
      const r = await h.probe({ host: "a.test", port: https!, path: RAW, ca: tb.pki.ca });
      assert.equal(r.status, 200, srv.logs());
      assert.equal(tb.stub.requests[0]?.url, RAW);
      assert.equal(tb.stub.requests[0]?.headers.host, `a.test:${https}`);
      const sock = await h.probe({
        host: "a.test",
        port: https!,
        path: "/sock/x%2Fy",
        method: "POST",
        body: Buffer.alloc(100_000),
        ca: tb.pki.ca,
      });
      assert.equal(sock.status, 200, srv.logs());
      assert.deepEqual(
        [tb.stub.requests[1]?.url, tb.stub.requests[1]?.via, tb.stub.requests[1]?.bodyLength],
        ["/sock/x%2Fy", "unix", 100_000],
      );
      const wk = await h.probe({
        host: "a.test",
        port: https!,
        path: "/.well-known/matrix/client",
        ca: tb.pki.ca,
      });
      assert.equal(wk.status, 200, srv.logs());
      assert.equal(wk.headers["content-type"], "application/json");
      assert.equal(wk.text, '{"m.homeserver":{"base_url":"https://a.test"}}\n');
      const redir = await h.probe({ scheme: "http", host: "a.test", port: http!, path: "/x?y=1" });
      assert.equal(redir.headers.location, `https://a.test:${http}/x?y=1`);
    } finally {
      await srv.stop();
    }
    assert.ok(await refused(https!), "port released after stop");
  });

  test("a broken config makes start throw with apache2 -t output", async () => {
    const [p, q] = await h.freePorts(2);
    const outDir = tb.out({ "apache/a.test.conf": vhosts(p!, q!, tb.base, "BogusDirective on") });
    await assert.rejects(
      h.startApache(outDir, { workDir: tb.work(), ports: [p!] }),
      /syntax check failed[\s\S]*Invalid command 'BogusDirective'/,
    );
    assert.ok(await refused(p!));
  });

  test("missing Ports header or an unknown module is a clear error", async () => {
    const noPorts = tb.out({ "apache/a.conf": `${MODS}\n` });
    await assert.rejects(h.apacheCheck(noPorts, tb.work()), /no "# Ports/);
    const badMod = tb.out({
      "apache/a.conf": "# Apache modules needed (a2enmod): nosuchmod\n# Ports: 1\n",
    });
    await assert.rejects(h.apacheCheck(badMod, tb.work()), /module "nosuchmod"/);
  });
});

describe("caddy", () => {
  const caddyfile = (https: number, http: number, global = `{\n\thttp_port ${http}\n\thttps_port ${https}\n}\n\n`) =>
    `${global}a.test:${https} {
	tls ${tb.pki.certFile} ${tb.pki.keyFile}
	handle /sock/* {
		reverse_proxy unix/${tb.stub.socketPath}
	}
	handle {
		reverse_proxy 127.0.0.1:${tb.stub.port}
	}
}

http://a.test:${http} {
	redir https://{host}:${https}{uri} permanent
}
`;

  test("runs the Caddyfile as is, ports from caddy adapt, raw targets, clean stop", async () => {
    const [https, http] = await h.freePorts(2);
    const outDir = tb.out({ "caddy/Caddyfile": caddyfile(https!, http!) });
    const workDir = tb.work();
    assert.deepEqual(
      await h.caddyListenPorts(outDir, workDir),
      [https!, http!].sort((a, b) => a - b),
    );
    assert.equal(await h.caddyFmtUnchanged(join(outDir, "caddy", "Caddyfile"), workDir), true);
    const srv = await h.startCaddy(outDir, { workDir });
    try {
      tb.stub.clear();
      const r = await h.probe({ host: "a.test", port: https!, path: RAW, ca: tb.pki.ca });
      assert.equal(r.status, 200, srv.logs());
      assert.equal(tb.stub.requests[0]?.url, RAW);
      assert.equal(tb.stub.requests[0]?.headers["x-forwarded-proto"], "https");
      const sock = await h.probe({
        host: "a.test",
        port: https!,
        path: "/sock/x%2Fy",
        ca: tb.pki.ca,
      });
      assert.equal(sock.status, 200, srv.logs());
      assert.equal(tb.stub.requests[1]?.via, "unix");
      const redir = await h.probe({ scheme: "http", host: "a.test", port: http!, path: "/x?y=1" });
      assert.equal(redir.headers.location, `https://a.test:${https}/x?y=1`);
    } finally {
      await srv.stop();
    }
    assert.ok(await refused(https!), "port released after stop");
  });

  test("without http_port Caddy also grabs :80 for redirects, and start says so", async () => {
    const [https, http] = await h.freePorts(2);
    const outDir = tb.out({ "caddy/Caddyfile": caddyfile(https!, http!, "") });
    // As root Caddy binds :80 (SO_REUSEPORT) and exactPorts catches it; as non-root it cannot bind.
    await assert.rejects(
      h.startCaddy(outDir, { workDir: tb.work() }),
      /unexpected TCP port\(s\) 80|exited during start-up[\s\S]*:80/,
    );
    assert.ok(await refused(https!));
  });

  test("validate and fmt report broken or unformatted Caddyfiles", async () => {
    const [p] = await h.freePorts(1);
    const broken = tb.out({ "caddy/Caddyfile": `a.test:${p} {\n\tbogus_directive\n}\n` });
    await assert.rejects(
      h.startCaddy(broken, { workDir: tb.work() }),
      /syntax check failed[\s\S]*unrecognized directive: bogus_directive/,
    );
    const ugly = tb.out({ "caddy/Caddyfile": `a.test:${p} {\n  respond "hi"\n}\n` });
    assert.equal(await h.caddyFmtUnchanged(join(ugly, "caddy", "Caddyfile"), tb.work()), false);
  });
});
