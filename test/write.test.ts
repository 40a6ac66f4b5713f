// How renders reach the disk (src/output/_write.ts), through the built CLI, once with every write in the
// main thread and once on two write threads (MXPROXY_WRITE_THREADS=0/2 forces the choice the CLI
// otherwise makes by site count and cores): the same files, summaries, messages and exit codes, and
//  - folders that do not exist yet are built in OUT/.mxproxy-stage-PID and moved in whole;
//    existing ones get temp files beside each changed file; nothing of either is left behind;
//  - a problem found midway (foreign file, symlink, a file where a folder goes, permissions)
//    changes nothing, whichever thread found it;
//  - a stage folder left by a killed render is removed by the next render, a live one is not;
//  - a render large enough to fill the worker's queue (the renderer then waits) is complete.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { compileSite, MANIFEST, writeOutput } from "../src/index.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "dist", "cli.js");
const DIR = mkdtempSync(join(tmpdir(), "mxproxy-write-"));
chmodSync(DIR, 0o755);
after(() => rmSync(DIR, { recursive: true, force: true }));

function sites(n: number, port = 6167, prefix = "s"): string {
  let y = "version: 1\nsites:\n";
  for (let i = 0; i < n; i++) y += `  - server_name: ${prefix}${i}.example.com\n    homeserver:\n      host: m.${prefix}${i}.example.com\n      upstream: http://127.0.0.1:${port}\n`;
  return y;
}

/** Every entry under `dir` (folders end in "/"), with file hashes. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.set(`${relative(dir, p)}/`, "");
        walk(p);
      } else out.set(relative(dir, p), e.isSymbolicLink() ? "link" : createHash("sha1").update(readFileSync(p)).digest("hex"));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** What rendering `yaml` must leave on disk: the files and the manifest, nothing else. */
function expectedFiles(yaml: string, file = "site.yaml"): Map<string, string> {
  const c = compileSite(file, yaml);
  assert.ok(c.files);
  const m = new Map(c.files.map((f) => [f.path, createHash("sha1").update(f.contents).digest("hex")]));
  m.set(MANIFEST, createHash("sha1").update(JSON.stringify({ generator: "mxproxy", files: [...m.keys()].sort() }, null, 2) + "\n").digest("hex"));
  return m;
}

function filesOnly(t: Map<string, string>): Map<string, string> {
  return new Map([...t].filter(([k]) => !k.endsWith("/")));
}

function leftovers(t: Map<string, string>): string[] {
  return [...t.keys()].filter((k) => /\.mxproxy-(tmp|stage)-/.test(k));
}

const MODES = [
  { name: "main thread", env: "0" },
  { name: "write threads", env: "2" },
] as const;

function cli(mode: (typeof MODES)[number], cwd: string, args: string[], asNobody = false) {
  const argv = [CLI, ...args];
  const cmd = asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, ...argv] : [process.execPath, ...argv];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", MXPROXY_WRITE_THREADS: mode.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
function caseDir(files: Record<string, string>): string {
  const d = join(DIR, `case-${n++}`);
  mkdirSync(d);
  chmodSync(d, 0o777);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

// Every scenario runs in both modes; the results are compared at the end of each.
const results = new Map<string, string[]>();
function record(scenario: string, mode: (typeof MODES)[number], what: string): void {
  const key = scenario;
  const list = results.get(key) ?? [];
  list.push(`${mode.name}: ${what}`);
  results.set(key, list);
}

for (const mode of MODES) {
  describe(`writes on the ${mode.name}`, () => {
    test("a fresh render is complete, staged and moved in whole, and leaves nothing behind", () => {
      const yaml = sites(3);
      const d = caseDir({ "site.yaml": yaml });
      const r = cli(mode, d, ["render", "site.yaml", "--out", "out"]);
      assert.equal(r.code, 0, r.stderr);
      // 3 × (nginx, apache, client and server documents) + Caddyfile + two Traefik files.
      assert.equal(r.stderr, "out: 15 written, 0 unchanged\n");
      const t = tree(join(d, "out"));
      assert.deepEqual(filesOnly(t), expectedFiles(yaml));
      assert.deepEqual(leftovers(t), []);
      const again = cli(mode, d, ["render", "site.yaml", "--out", "out"]);
      assert.equal(again.stderr, "out: 0 written, 15 unchanged\n");
      assert.deepEqual(tree(join(d, "out")), t, "an unchanged render changes nothing");
    });

    test("an update writes changed files beside the old ones, removes dropped sites' files, keeps foreign files", () => {
      const d = caseDir({ "a.yaml": sites(3), "b.yaml": sites(2, 7000) });
      assert.equal(cli(mode, d, ["render", "a.yaml", "--out", "out"]).code, 0);
      writeFileSync(join(d, "out", "nginx", "mine.conf"), "# mine\n");
      const r = cli(mode, d, ["render", "b.yaml", "--out", "out"]);
      assert.equal(r.code, 0, r.stderr);
      // Every config names the input's hash: 2 × (nginx, apache) + Caddyfile + two Traefik files
      // written; the 4 documents unchanged; s2's nginx, apache and two documents removed.
      assert.equal(r.stderr, "out: 7 written, 4 unchanged, 4 removed\n");
      const t = tree(join(d, "out"));
      const want = expectedFiles(sites(2, 7000), "b.yaml");
      want.set("nginx/mine.conf", createHash("sha1").update("# mine\n").digest("hex"));
      assert.deepEqual(filesOnly(t), want);
      assert.deepEqual(leftovers(t), []);
      record("update", mode, r.stderr);
    });

    test("a render that adds backends stages only the folders that are new", () => {
      const yaml = sites(2);
      const d = caseDir({ "site.yaml": yaml });
      assert.equal(cli(mode, d, ["render", "site.yaml", "--out", "out", "--backend", "nginx"]).code, 0);
      const r = cli(mode, d, ["render", "site.yaml", "--out", "out"]);
      // --backend nginx wrote nginx/ and the documents; now apache/, caddy/ and traefik/ are new.
      assert.equal(r.stderr, "out: 5 written, 6 unchanged\n");
      assert.deepEqual(filesOnly(tree(join(d, "out"))), expectedFiles(yaml));
    });

    const refusals: [string, (d: string) => void, RegExp, boolean?][] = [
      ["a foreign file where a new file goes, in an existing folder", (d) => writeFileSync(join(d, "out", "nginx", "s3.example.com.conf"), "# mine\n"), /out\/nginx\/s3\.example\.com\.conf exists and was not written by mxproxy/],
      ["a symbolic link to a folder where a file goes", (d) => symlinkSync(join(d, "out", "nginx", "s0.example.com.conf"), join(d, "out", "apache", "s3.example.com.conf")), /symbolic link/],
      ["a file where the well-known folder goes", (d) => {
        rmSync(join(d, "out", "well-known"), { recursive: true });
        writeFileSync(join(d, "out", "well-known"), "x");
      }, /is a file where mxproxy needs a folder/],
      ["a read-only folder (run as nobody)", (d) => chownSync(join(d, "out", "caddy"), 0, 0), /permission denied/, true],
      ["a read-only output folder, new backends to stage (run as nobody)", (d) => {
        rmSync(join(d, "out", "traefik"), { recursive: true });
        chownSync(join(d, "out"), 0, 0);
      }, /permission denied/, true],
    ];
    for (const [name, spoil, message, asNobody] of refusals) {
      test(`${name}: exit 1, a clear message, nothing changed`, () => {
        const d = caseDir({ "a.yaml": sites(3), "b.yaml": sites(4, 7000) });
        if (asNobody) {
          mkdirSync(join(d, "out"));
          chownSync(join(d, "out"), 65534, 65534);
        }
        assert.equal(cli(mode, d, ["render", "a.yaml", "--out", "out"], asNobody).code, 0);
        spoil(d);
        const before = tree(join(d, "out"));
        const r = cli(mode, d, ["render", "b.yaml", "--out", "out"], asNobody);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        assert.deepEqual(tree(join(d, "out")), before, "nothing changed");
        record(name, mode, r.stderr.replaceAll(d, "D"));
      });
    }

    test("a stage folder left by a killed render goes; a running render's stays", () => {
      const d = caseDir({ "site.yaml": sites(2) });
      const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
      mkdirSync(join(d, "out", `.mxproxy-stage-${gone}`, "nginx"), { recursive: true });
      writeFileSync(join(d, "out", `.mxproxy-stage-${gone}`, "nginx", "half.conf"), "half");
      mkdirSync(join(d, "out", `.mxproxy-stage-${process.pid}`));
      const r = cli(mode, d, ["render", "site.yaml", "--out", "out"]);
      assert.equal(r.code, 0, r.stderr);
      const t = tree(join(d, "out"));
      assert.deepEqual(leftovers(t), [`.mxproxy-stage-${process.pid}/`]);
    });
  });
}

test("both threads gave the same summaries and messages", () => {
  assert.ok(results.size >= 6);
  for (const [scenario, list] of results) {
    assert.equal(list.length, 2, scenario);
    assert.equal(list[0]!.replace(/^[^:]*: /, ""), list[1]!.replace(/^[^:]*: /, ""), scenario);
  }
});

test("a render bigger than the worker's queue (the renderer waits for it) writes every file", () => {
  // ≈ 40 MB of text: more than the 32 M characters the worker may have queued.
  // On tmpfs where there is one: on this machine's disk, creating 10,000 files takes 10 s of system time.
  const yaml = sites(2600);
  const d = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "mxproxy-write-"));
  after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, "site.yaml"), yaml);
  const r = cli(MODES[1], d, ["render", "site.yaml", "--out", "out"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(filesOnly(tree(join(d, "out"))), expectedFiles(yaml));
});

test("the library writes arrays and lazy iterables alike, in this thread", () => {
  const yaml = sites(2);
  const c = compileSite("site.yaml", yaml);
  const a = join(DIR, "lib-a");
  const b = join(DIR, "lib-b");
  writeOutput(a, c.files!);
  writeOutput(b, (function* () {
    yield* c.files!;
  })());
  assert.deepEqual(tree(a), tree(b));
  assert.deepEqual(filesOnly(tree(a)), expectedFiles(yaml));
});

test("a file bigger than a batch (written in parts) is whole, in both threads' modes and beside old files", () => {
  // 300 sites: the Caddyfile and the Traefik file are well over 128 K characters.
  const yaml = sites(300);
  for (const mode of MODES) {
    const d = caseDir({ "site.yaml": yaml, "b.yaml": sites(300, 7000) });
    assert.equal(cli(mode, d, ["render", "site.yaml", "--out", "out"]).code, 0);
    assert.deepEqual(filesOnly(tree(join(d, "out"))), expectedFiles(yaml), `${mode.name}: new folders`);
    assert.ok(readFileSync(join(d, "out", "caddy", "Caddyfile"), "utf8").length > 1 << 17);
    assert.equal(cli(mode, d, ["render", "b.yaml", "--out", "out"]).code, 0);
    assert.deepEqual(filesOnly(tree(join(d, "out"))), expectedFiles(sites(300, 7000), "b.yaml"), `${mode.name}: existing folders`);
  }
});
