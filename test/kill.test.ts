// Writes, through the real CLI process:
//  - SIGKILL at fixed-seed random points while `render big.yaml` (a few thousand sites) writes:
//    afterwards every output file is byte for byte the previous render's or the new one's, never
//    truncated or mixed, and a complete render still succeeds;
//  - unwritable targets (the CLI run as nobody via setpriv, since root ignores permissions), a
//    file where a folder is expected, symlinks in the output tree, foreign files: a clear error,
//    exit 1, nothing changed; files mxproxy did not generate are never overwritten or deleted.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { compileSite, MANIFEST } from "../src/index.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "dist", "cli.js");
const DIR = mkdtempSync(join(tmpdir(), "mxproxy-kill-"));
chmodSync(DIR, 0o755);
after(() => rmSync(DIR, { recursive: true, force: true }));

const KILLS = Number(process.env.KILL_RUNS ?? 20);
const SITES = Number(process.env.KILL_SITES ?? 800);
const TEMP = /\.mxproxy-tmp-/;

function siteYaml(n: number, variant: { port: number; key?: string; first?: string[] }): string {
  let y = "version: 1\nsites:\n";
  const names = [...(variant.first ?? []), ...Array.from({ length: n }, (_, i) => `s${i}`)];
  for (const name of names) {
    y += `  - server_name: ${name}.example.com\n    homeserver:\n      host: m.${name}.example.com\n      upstream: http://127.0.0.1:${variant.port}\n`;
    if (variant.key) y += `    well_known:\n      client:\n        org.example.variant: ${JSON.stringify(variant.key)}\n`;
  }
  return y;
}

const sha = (b: Buffer | string) => createHash("sha1").update(b).digest("hex");

/** Every file the render of `yaml` writes, with its hash (the manifest included). */
function expected(yaml: string, file: string): Map<string, string> {
  const c = compileSite(file, yaml);
  assert.ok(c.files, "the test's site file is valid");
  const m = new Map(c.files.map((f) => [f.path, sha(f.contents)]));
  m.set(MANIFEST, sha(JSON.stringify({ generator: "mxproxy", files: [...m.keys()].sort() }, null, 2) + "\n"));
  return m;
}

/** Regular files under `dir`, relative, temp files separately. */
function tree(dir: string): { files: Map<string, string>; temps: string[] } {
  const files = new Map<string, string>();
  const temps: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (TEMP.test(e.name)) temps.push(relative(dir, p));
      else files.set(relative(dir, p), sha(readFileSync(p)));
    }
  };
  if (existsSync(dir)) walk(dir);
  return { files, temps };
}

function cli(args: string[], opts: { cwd?: string; asNobody?: boolean } = {}) {
  const cmd = opts.asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: opts.cwd ?? DIR, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Deterministic delays (a linear congruential generator with a fixed seed). */
function* delays(seed: number, lo: number, hi: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) >>> 0;
    yield lo + ((x >>> 8) % 10000) / 10000 * (hi - lo);
  }
}

describe(`kill: SIGKILL at ${KILLS} fixed-seed points while rendering ${SITES} sites`, () => {
  const out = join(DIR, "big-out");
  const variants = [
    { port: 6167, key: "a" },
    { port: 7000, key: "b" },
  ].map((v) => ({ ...v, yaml: siteYaml(SITES, v) }));
  const files = variants.map((v) => join(DIR, `big-${v.key}.yaml`));
  let want: Map<string, string>[] = [];
  let writeMs = 0;
  const outcomes = { beforeAnyWrite: 0, midWrite: 0, complete: 0, temps: 0 };

  /**
   * render runs the CLI and watches the first file it writes (nginx/s0…conf): when that changes,
   * the write phase has begun, and the process is killed `killAfter` ms later (if given). Timing
   * from the start of writing keeps the kill points inside the write phase whatever the load.
   */
  function render(file: string, killAfter?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; writing?: number; ms: number }> {
    const first = join(out, "nginx", "s0.example.com.conf");
    const mtime = () => (existsSync(first) ? lstatSync(first).mtimeMs : 0);
    const m0 = mtime();
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, "render", file, "--out", out], { stdio: "ignore" });
    let writing: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (writing === undefined && mtime() !== m0) {
        writing = Date.now();
        if (killAfter !== undefined) timer = setTimeout(() => child.kill("SIGKILL"), killAfter);
      }
    }, 1);
    return new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        clearInterval(poll);
        clearTimeout(timer);
        resolve({ code, signal, writing: writing === undefined ? undefined : writing - started, ms: Date.now() - started });
      }),
    );
  }

  before(async () => {
    variants.forEach((v, i) => writeFileSync(files[i]!, v.yaml));
    want = variants.map((v, i) => expected(v.yaml, files[i]!.split("/").pop()!));
    assert.equal(cli(["render", files[0]!, "--out", out]).code, 0);
    // How long writing takes: a complete render of B over A, then back to A.
    const r = await render(files[1]!);
    assert.equal(r.code, 0);
    assert.ok(r.writing !== undefined, "saw the write phase begin");
    writeMs = r.ms - r.writing;
    assert.equal((await render(files[0]!)).code, 0);
  });

  test("each kill leaves every file wholly the previous or the new render's bytes", async () => {
    const next = delays(0x6b696c6c, 0, 1.1 * writeMs);
    for (let k = 0; k < KILLS; k++) {
      const v = (k + 1) % 2;
      const delay = next.next().value as number;
      const { code, signal } = await render(files[v]!, delay);
      assert.ok(signal === "SIGKILL" || code === 0, `render ${k} ended with ${code ?? signal}`);
      const { files: now, temps } = tree(out);
      outcomes.temps = temps.length;
      let fromA = 0;
      let fromB = 0;
      for (const [path, hash] of now) {
        const a = want[0]!.get(path);
        const b = want[1]!.get(path);
        assert.ok(a !== undefined || b !== undefined, `kill ${k} ${Math.round(delay)} ms into writing: unexpected file ${path}`);
        assert.ok(hash === a || hash === b, `kill ${k} ${Math.round(delay)} ms into writing: ${path} is neither the previous nor the new render's bytes (truncated or mixed)`);
        if (a !== b) hash === a ? fromA++ : fromB++;
      }
      for (const path of want[0]!.keys()) if (want[1]!.has(path)) assert.ok(now.has(path), `kill ${k}: ${path} disappeared`);
      if (signal !== "SIGKILL") outcomes.complete++;
      else if (fromA > 0 && fromB > 0) outcomes.midWrite++;
      else outcomes.beforeAnyWrite++;
    }
    process.stderr.write(`kill: ${KILLS} renders of ${SITES} sites (${want[0]!.size} files, writing takes ${writeMs} ms): ${outcomes.midWrite} killed mid-write, ${outcomes.beforeAnyWrite} killed with no file or every file replaced, ${outcomes.complete} completed; ${outcomes.temps} temp files left behind by killed renders\n`);
    assert.ok(outcomes.midWrite >= KILLS / 2, "too few kills landed while files were being written");
  });

  test("after the kills, a complete render writes exactly the new tree", () => {
    const r = cli(["render", files[1]!, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const { files: now } = tree(out);
    assert.deepEqual([...now.keys()].sort(), [...want[1]!.keys()].sort());
    for (const [path, hash] of now) assert.equal(hash, want[1]!.get(path), path);
    assert.deepEqual(cli(["render", files[1]!, "--out", out, "--check"]).code, 0, "no drift");
  });

  test("a render killed after writing files it never wrote before does not block the next render", async () => {
    // Variant B adds sites (new files) at the front, so they are written first; the kill comes as
    // soon as one exists, long before the manifest that would record it.
    const dir = join(DIR, "grow-out");
    const a = join(DIR, "grow-a.yaml");
    const b = join(DIR, "grow-b.yaml");
    const c = join(DIR, "grow-c.yaml");
    writeFileSync(a, siteYaml(200, { port: 6167 }));
    writeFileSync(b, siteYaml(200, { port: 6167, first: ["new1", "new2"] }));
    writeFileSync(c, siteYaml(200, { port: 7777, first: ["new1", "new2"] }));
    assert.equal(cli(["render", a, "--out", dir]).code, 0);
    const child = spawn(process.execPath, [CLI, "render", b, "--out", dir], { stdio: "ignore" });
    const probe = join(dir, "nginx", "new1.example.com.conf");
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(probe) || child.exitCode !== null) {
          child.kill("SIGKILL");
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on("exit", resolve)));
    assert.ok(existsSync(probe), "the kill came after the new file was written");
    const r = cli(["render", c, "--out", dir]);
    assert.equal(r.code, 0, `the next render refused to run after the kill:\n${r.stderr}`);
    assert.equal(cli(["render", c, "--out", dir, "--check"]).code, 0);
  });
});

// --- unwritable targets, files where folders are expected, symlinks, foreign files ---

const SMALL = `version: 1
sites:
  - server_name: example.com
    homeserver:
      host: matrix.example.com
      upstream: http://127.0.0.1:6167
  - server_name: example.org
    homeserver:
      host: matrix.example.org
      upstream: http://127.0.0.1:6168
`;
const SMALL_CHANGED = SMALL.replaceAll("6167", "7167").replaceAll("6168", "7168");
const ONE_SITE = SMALL.split("  - server_name: example.org")[0]!;

/** Everything under `dir` (links not followed): path, type, mode, owner, contents or link target. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${(st.mode & 0o777).toString(8)} ${st.uid}`);
        walk(p);
      } else out.push(`${rel} ${(st.mode & 0o777).toString(8)} ${st.uid} ${sha(readFileSync(p))}`);
    }
  };
  walk(dir);
  return out;
}

let n = 0;
/** A fresh case folder holding site.yaml (and changed.yaml, one.yaml). */
function caseDir(): string {
  const d = join(DIR, `w${n++}`);
  mkdirSync(d);
  chmodSync(d, 0o755);
  writeFileSync(join(d, "site.yaml"), SMALL);
  writeFileSync(join(d, "changed.yaml"), SMALL_CHANGED);
  writeFileSync(join(d, "one.yaml"), ONE_SITE);
  return d;
}

/** Run the CLI in `d` and assert: exit 1, one clear "mxproxy: …" message matching `message`, no stack, nothing changed. */
function refuses(d: string, args: string[], message: RegExp, opts: { asNobody?: boolean; watch?: string[] } = {}) {
  const watched = [d, ...(opts.watch ?? [])];
  const before = watched.map(snapshot);
  const r = cli(args, { cwd: d, asNobody: opts.asNobody });
  const context = `exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  assert.equal(r.code, 1, context);
  assert.match(r.stderr, message, context);
  assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, context);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one message\n${context}`);
  watched.forEach((w, i) => assert.deepEqual(snapshot(w), before[i], `${w} changed\n${context}`));
}

describe("writes: clear errors and nothing changed", () => {
  test("--out names an existing file", () => {
    const d = caseDir();
    writeFileSync(join(d, "out"), "not a folder\n");
    refuses(d, ["render", "site.yaml", "--out", "out"], /out/);
  });

  test("a file where mxproxy needs a folder (out/nginx)", () => {
    const d = caseDir();
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d }).code, 0);
    rmSync(join(d, "out", "nginx"), { recursive: true });
    writeFileSync(join(d, "out", "nginx"), "mine\n");
    refuses(d, ["render", "changed.yaml", "--out", "out"], /out\/nginx.*(file|folder)/);
  });

  test("a file where mxproxy needs a folder, deeper (out/well-known/example.com/.well-known)", () => {
    const d = caseDir();
    mkdirSync(join(d, "out", "well-known", "example.com"), { recursive: true });
    writeFileSync(join(d, "out", "well-known", "example.com", ".well-known"), "mine\n");
    refuses(d, ["render", "site.yaml", "--out", "out"], /\.well-known.*(file|folder)/);
  });

  test("a symlinked folder in the output tree (out/nginx -> elsewhere)", () => {
    const d = caseDir();
    const elsewhere = join(d, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "keep.txt"), "keep\n");
    mkdirSync(join(d, "out"));
    symlinkSync(elsewhere, join(d, "out", "nginx"));
    refuses(d, ["render", "site.yaml", "--out", "out"], /symbolic link|symlink/);
  });

  test("a symlinked output file (out/nginx/example.com.conf -> a victim file)", () => {
    const d = caseDir();
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d }).code, 0);
    const victim = join(d, "victim.conf");
    writeFileSync(victim, "precious\n");
    rmSync(join(d, "out", "nginx", "example.com.conf"));
    symlinkSync(victim, join(d, "out", "nginx", "example.com.conf"));
    refuses(d, ["render", "changed.yaml", "--out", "out"], /symbolic link|symlink/);
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
  });

  test("a symlinked manifest", () => {
    const d = caseDir();
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d }).code, 0);
    const victim = join(d, "victim.json");
    writeFileSync(victim, readFileSync(join(d, "out", MANIFEST)));
    rmSync(join(d, "out", MANIFEST));
    symlinkSync(victim, join(d, "out", MANIFEST));
    refuses(d, ["render", "changed.yaml", "--out", "out"], /symbolic link|symlink/);
  });

  test("an unwritable --out folder (CLI run as nobody)", () => {
    const d = caseDir();
    mkdirSync(join(d, "out"));
    chmodSync(join(d, "out"), 0o755); // root's: nobody cannot create anything in it
    refuses(d, ["render", "site.yaml", "--out", "out"], /permission denied|EACCES/i, { asNobody: true });
  });

  test("an unwritable parent of --out (CLI run as nobody)", () => {
    const d = caseDir();
    refuses(d, ["render", "site.yaml", "--out", "out/sub"], /permission denied|EACCES/i, { asNobody: true });
  });

  test("one unwritable subfolder of an existing render (CLI run as nobody): nothing changed, not half an update", () => {
    const d = caseDir();
    const out = join(d, "out");
    mkdirSync(out);
    chownSync(out, 65534, 65534);
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d, asNobody: true }).code, 0);
    // apache/ goes back to root: nobody can no longer replace the files in it.
    chownSync(join(out, "apache"), 0, 0);
    refuses(d, ["render", "changed.yaml", "--out", "out"], /permission denied|EACCES/i, { asNobody: true });
  });

  test("a foreign file at an output path is never overwritten", () => {
    const d = caseDir();
    mkdirSync(join(d, "out", "nginx"), { recursive: true });
    writeFileSync(join(d, "out", "nginx", "example.com.conf"), "# my own config\n");
    refuses(d, ["render", "site.yaml", "--out", "out"], /not written by mxproxy/);
  });

  test("foreign files beside generated ones survive renders, and removing a site deletes only mxproxy's files", () => {
    const d = caseDir();
    const out = join(d, "out");
    mkdirSync(join(out, "nginx"), { recursive: true });
    writeFileSync(join(out, "nginx", "notes.txt"), "mine\n");
    writeFileSync(join(out, "custom.conf"), "mine too\n");
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d }).code, 0);
    assert.equal(cli(["render", "changed.yaml", "--out", "out"], { cwd: d }).code, 0);
    const r = cli(["render", "one.yaml", "--out", "out"], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(out, "nginx", "example.org.conf")), "the removed site's own file is deleted");
    assert.equal(readFileSync(join(out, "nginx", "notes.txt"), "utf8"), "mine\n");
    assert.equal(readFileSync(join(out, "custom.conf"), "utf8"), "mine too\n");
  });

  test("a manifest that lists paths outside the output folder deletes nothing outside it", () => {
    const d = caseDir();
    const out = join(d, "out");
    assert.equal(cli(["render", "site.yaml", "--out", "out"], { cwd: d }).code, 0);
    writeFileSync(join(d, "victim.txt"), "precious\n");
    const m = JSON.parse(readFileSync(join(out, MANIFEST), "utf8")) as { files: string[] };
    m.files.push("../victim.txt", join(d, "victim.txt"), "nginx/../../victim.txt");
    writeFileSync(join(out, MANIFEST), JSON.stringify(m, null, 2) + "\n");
    cli(["render", "one.yaml", "--out", "out"], { cwd: d });
    assert.equal(readFileSync(join(d, "victim.txt"), "utf8"), "precious\n");
  });

  test("--check writes nothing, also next to a foreign file", () => {
    const d = caseDir();
    mkdirSync(join(d, "out", "nginx"), { recursive: true });
    writeFileSync(join(d, "out", "nginx", "example.com.conf"), "# my own config\n");
    const before = snapshot(d);
    const r = cli(["render", "site.yaml", "--out", "out", "--check"], { cwd: d });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(snapshot(d), before);
  });
});
