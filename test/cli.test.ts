// The built CLI as a process: exit codes, stdout/stderr, files on disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AjvModule from "ajv";
import { ROOT, FIXTURES } from "./_fixtures.js";

const CLI = join(ROOT, "dist/cli.js");
const MINIMAL = join(FIXTURES, "minimal/site.yaml");
const BAD = join(FIXTURES, "_errors_/bad-upstream/site.yaml");

function mx(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: opts.input, cwd: opts.cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "", ...opts.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "mxproxy-cli-"));
}

function tree(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name), base) : [join(dir, e.name).slice(base.length + 1)])).sort();
}

test("render writes every backend, the documents and a manifest; messages go to stderr", () => {
  const out = join(tmp(), "out");
  const r = mx(["render", MINIMAL, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /8 written, 0 unchanged|7 written, 0 unchanged/);
  assert.deepEqual(tree(out), [
    ".mxproxy-manifest.json",
    "apache/example.com.conf",
    "caddy/Caddyfile",
    "nginx/example.com.conf",
    "traefik/mxproxy.yml",
    "traefik/static/traefik.yml",
    "well-known/example.com/.well-known/matrix/client",
    "well-known/example.com/.well-known/matrix/server",
  ]);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "well-known/example.com/.well-known/matrix/server"), "utf8")), { "m.server": "matrix.example.com:443" });
  const again = mx(["render", MINIMAL, "--out", out]);
  assert.match(again.stderr, /0 written, 7 unchanged/);
});

test("--backend selects backends and may be repeated", () => {
  const out = join(tmp(), "out");
  const r = mx(["render", MINIMAL, "--out", out, "--backend", "nginx", "-b", "caddy"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), [".mxproxy-manifest.json", "caddy", "nginx", "well-known"]);
});

test("render --check: 0 when up to date, 1 with a unified diff on drift, user files ignored", () => {
  const out = join(tmp(), "out");
  assert.equal(mx(["render", MINIMAL, "--out", out]).code, 0);
  writeFileSync(join(out, "nginx/notes.txt"), "a user's file\n");
  const clean = mx(["render", MINIMAL, "--out", out, "--check"]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stdout, "");

  const conf = join(out, "nginx/example.com.conf");
  writeFileSync(conf, readFileSync(conf, "utf8").replace("proxy_read_timeout 600s;", "proxy_read_timeout 60s;"));
  rmSync(join(out, "caddy/Caddyfile"));
  const drift = mx(["render", MINIMAL, "--out", out, "--check"]);
  assert.equal(drift.code, 1);
  assert.match(drift.stdout, /^--- .*nginx\/example\.com\.conf\ton disk$/m);
  assert.match(drift.stdout, /^-        proxy_read_timeout 60s;$/m);
  assert.match(drift.stdout, /^\+        proxy_read_timeout 600s;$/m);
  assert.match(drift.stdout, /^--- \/dev\/null/m, "a missing file shows as new");
  assert.doesNotMatch(drift.stdout + drift.stderr, /notes\.txt/);
  assert.match(drift.stderr, /nginx\/example\.com\.conf \(changed\)/);
  assert.match(drift.stderr, /caddy\/Caddyfile \(missing\)/);
  assert.equal(readFileSync(conf, "utf8").includes("proxy_read_timeout 60s;"), true, "--check writes nothing");
});

test("render --check reports files we generated before that are no longer rendered", () => {
  const dir = tmp();
  const two = join(dir, "two.yaml");
  writeFileSync(two, readFileSync(join(FIXTURES, "three-sites/site.yaml"), "utf8"));
  const out = join(dir, "out");
  assert.equal(mx(["render", two, "--out", out]).code, 0);
  const one = join(dir, "one.yaml");
  writeFileSync(one, readFileSync(MINIMAL, "utf8"));
  const r = mx(["render", one, "--out", out, "--check"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nginx\/example\.org\.conf \(extra\)/);
  const w = mx(["render", one, "--out", out]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(existsSync(join(out, "nginx/example.org.conf")), false, "a stale generated file is removed");
});

test("render refuses to overwrite a file it did not write", () => {
  const out = join(tmp(), "out");
  mkdirSync(join(out, "nginx"), { recursive: true });
  writeFileSync(join(out, "nginx/example.com.conf"), "# mine\n");
  const r = mx(["render", MINIMAL, "--out", out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /exists and was not written by mxproxy/);
  assert.equal(readFileSync(join(out, "nginx/example.com.conf"), "utf8"), "# mine\n");
  assert.deepEqual(readdirSync(out), ["nginx"], "nothing else was written");
});

test("render --stdout prints one backend; usage mistakes exit 2", () => {
  const r = mx(["render", MINIMAL, "--stdout", "-b", "nginx"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# Generated by mxproxy/);
  assert.match(r.stdout, /proxy_pass http:\/\/127\.0\.0\.1:6167;/);
  const t = mx(["render", MINIMAL, "--stdout", "-b", "traefik"]);
  assert.match(t.stdout, /^http:$/m);
  assert.doesNotMatch(t.stdout, /^entryPoints:$/m, "--stdout prints Traefik's dynamic file only");
  assert.equal(mx(["render", MINIMAL, "--stdout"]).code, 2);
  assert.equal(mx(["render", MINIMAL, "-b", "lighttpd"]).code, 2);
  assert.equal(mx(["render"]).code, 2);
  const unknown = mx(["rendr", MINIMAL]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Run "mxproxy --help"/);
});

test("bad input: positioned error, exit 1, no stack trace, nothing written", () => {
  const out = join(tmp(), "out");
  const r = mx(["render", BAD, "--out", out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad-upstream\/site\.yaml:6:17 sites\[0\]\.homeserver\.upstream: "htp:\/\/x" is not valid/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.equal(existsSync(out), false);
});

test("validate: text, json, several files, stdin", () => {
  const ok = mx(["validate", MINIMAL]);
  assert.equal(ok.code, 0);
  assert.match(ok.stderr, /valid \(1 site\)/);
  assert.equal(ok.stdout, "");
  const json = mx(["validate", BAD, "--format", "json"]);
  assert.equal(json.code, 1);
  const diags = JSON.parse(json.stdout);
  assert.deepEqual(Object.keys(diags[0]).sort(), ["column", "file", "line", "message", "path", "severity"]);
  assert.equal(diags[0].line, 6);
  assert.equal(diags[0].column, 17);
  assert.equal(diags[0].path, "sites[0].homeserver.upstream");
  assert.deepEqual(JSON.parse(mx(["validate", MINIMAL, "--format", "json"]).stdout), []);
  const both = mx(["validate", MINIMAL, BAD]);
  assert.equal(both.code, 1);
  const stdin = mx(["validate", "-"], { input: readFileSync(BAD, "utf8") });
  assert.equal(stdin.code, 1);
  assert.match(stdin.stderr, /^<stdin>:6:17 /m);
});

test("schema: valid JSON Schema with $id, and it validates the fixtures", () => {
  const r = mx(["schema"]);
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout);
  assert.match(schema.$id, /site\.schema\.json$/);
  const ajv = new AjvModule.default({ strict: false });
  const validate = ajv.compile(schema);
  assert.equal(validate({ version: 1, sites: [{ server_name: "example.com", homeserver: { host: "m.example.com", upstream: "http://127.0.0.1:1" } }] }), true);
  assert.equal(validate({ version: 2, sites: [] }), false);
});

test("compare: table names every backend, json and markdown formats", () => {
  const table = mx(["compare", join(FIXTURES, "unix-socket/site.yaml")]);
  assert.equal(table.code, 0, table.stderr);
  for (const b of ["nginx", "apache", "caddy", "traefik"]) assert.match(table.stdout, new RegExp(`^  ${b} `, "m"));
  assert.match(table.stdout, /traefik\s+yes\s+loadBalancer to http:\/\/127\.0\.0\.1:6167 \(backends\.traefik\.upstream\)/);
  const rows = JSON.parse(mx(["compare", MINIMAL, "--format", "json"]).stdout);
  const wk = rows.find((r: { feature: string }) => r.feature === "well-known client");
  assert.equal(wk.backends.traefik.support, "external");
  assert.equal(wk.backends.nginx.support, "yes");
  const md = mx(["compare", MINIMAL, "--format", "markdown"]).stdout;
  assert.match(md, /^\| site \| feature \| plan \| nginx \| apache \| caddy \| traefik \|$/m);
  assert.doesNotMatch(table.stdout + md, /\u001b\[/, "no colour when not on a terminal");
});

test("init: writes a valid commented file, refuses to overwrite without --force", () => {
  const dir = tmp();
  const r = mx(["init", "--server-name", "example.org"], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, "site.yaml"), "utf8");
  assert.match(text.split("\n")[0]!, /^# yaml-language-server: \$schema=/);
  assert.match(text, /host: "matrix\.example\.org"/);
  assert.equal(mx(["validate", join(dir, "site.yaml")]).code, 0);
  const again = mx(["init", "--server-name", "example.net"], { cwd: dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  assert.equal(mx(["init", "--server-name", "example.net", "--force"], { cwd: dir }).code, 0);
  assert.match(readFileSync(join(dir, "site.yaml"), "utf8"), /example\.net/);
  const bad = mx(["init", "other.yaml", "--server-name", "not a host"], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.equal(existsSync(join(dir, "other.yaml")), false);
});

test("--help shows examples and exit codes; --version; completion", () => {
  const h = mx(["--help"]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Examples:/);
  assert.match(h.stdout, /Exit codes: 0 ok, 1 invalid input, drift or output problem, 2 usage error/);
  for (const cmd of ["render", "validate", "schema", "compare", "init"]) assert.match(mx([cmd, "--help"]).stdout, /Examples:/, cmd);
  assert.equal(mx(["--version"]).stdout.trim(), JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  assert.match(mx(["completion"]).stdout, /mxproxy/);
});

test("temp files left by a killed render are removed by the next one; a live process's are kept", () => {
  const out = join(tmp(), "out");
  assert.equal(mx(["render", MINIMAL, "--out", out]).code, 0);
  const dead = join(out, "nginx/.example.com.conf.mxproxy-tmp-999999999");
  const live = join(out, `nginx/.example.com.conf.mxproxy-tmp-${process.pid}`);
  writeFileSync(dead, "half");
  writeFileSync(live, "in use");
  const changed = join(tmp(), "site.yaml");
  writeFileSync(changed, readFileSync(MINIMAL, "utf8").replace("6167", "6168"));
  assert.equal(mx(["render", changed, "--out", out]).code, 0);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(live), true);
});
