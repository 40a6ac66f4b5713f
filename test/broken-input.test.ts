// Broken input through the real CLI process (node dist/cli.js render FILE --out OUT): every case
// must end with exit code 1 and one clear error naming FILE:LINE:COL (the line of the offending
// construct where there is one), no stack trace, nothing written (no OUT, no temp files beside
// it), in bounded time (< 5 s) and memory (< 400 MiB peak RSS, measured by /usr/bin/time).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "dist", "cli.js");
const TIME_LIMIT_MS = 5000;
const MEMORY_LIMIT_KB = 400 * 1024;
const DIR = mkdtempSync(join(tmpdir(), "mxproxy-broken-"));
chmodSync(DIR, 0o755);
after(() => rmSync(DIR, { recursive: true, force: true }));

const VALID_SITE = "  - server_name: example.com\n    homeserver:\n      host: matrix.example.com\n      upstream: http://127.0.0.1:6167\n";

interface Case {
  name: string;
  /** File contents, or a function that creates the input at `path` (folders, FIFOs, sparse files). */
  input: string | Buffer | ((path: string) => void);
  /** Give the CLI this path instead of the created one (devices, "-" for standard input). */
  arg?: string;
  /** Feed standard input from this file (with arg "-"). */
  stdin?: string;
  line?: number;
  column?: number;
  message?: RegExp;
}

// A deterministic pseudo-random byte source (the test must not change from run to run).
function bytes(n: number, seed: number, from = 0, to = 256): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = from + ((x >>> 16) % (to - from));
  }
  return b;
}

function billionLaughs(): string {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  return `version: 1\n${lines.join("\n")}\nsites: *a9\n`;
}

const CASES: Case[] = [
  // YAML syntax
  { name: "bad indentation", input: `version: 1\nsites:\n  - server_name: example.com\n   homeserver: x\n`, line: 4 },
  { name: "unclosed double quote", input: `version: 1\nsites:\n  - server_name: "example.com\n    homeserver:\n      host: matrix.example.com\n`, line: 3, message: /quote/i },
  { name: "unclosed flow sequence", input: `version: 1\nsites: [\n`, message: /YAML/ },
  { name: "tab indentation", input: `version: 1\nsites:\n\t- server_name: example.com\n`, line: 3, message: /tab/i },
  { name: "two documents", input: `version: 1\nsites:\n${VALID_SITE}---\nversion: 1\n`, line: 7, message: /document/i },
  { name: "key with two colons", input: `version: 1\nsites:\n  - server_name: a: b\n`, line: 3 },
  // duplicate keys
  { name: "duplicate top-level key", input: `version: 1\nversion: 1\nsites:\n${VALID_SITE}`, line: 2, message: /unique|duplicate/i },
  { name: "duplicate key inside a site", input: `version: 1\nsites:\n${VALID_SITE}    homeserver:\n      host: other.example.com\n`, line: 7, message: /unique|duplicate/i },
  // wrong types
  { name: "version is a string", input: `version: "1"\nsites:\n${VALID_SITE}`, line: 1, message: /version/ },
  { name: "sites is a mapping", input: `version: 1\nsites:\n  server_name: example.com\n`, line: 3, message: /sites/ },
  { name: "port is a word", input: `version: 1\nsites:\n${VALID_SITE}    federation:\n      port: eighty\n`, line: 8, column: 13, message: /port/ },
  { name: "listen.http is true", input: `version: 1\nsites:\n${VALID_SITE}    listen:\n      http: true\n`, line: 8, message: /http/ },
  { name: "homeserver is a string", input: `version: 1\nsites:\n  - server_name: example.com\n    homeserver: matrix.example.com\n`, line: 4, message: /homeserver/ },
  // unknown fields: a near miss gets a suggestion
  { name: "unknown key server_nam", input: `version: 1\nsites:\n  - server_nam: example.com\n    homeserver:\n      host: matrix.example.com\n      upstream: http://127.0.0.1:6167\n`, line: 3, column: 5, message: /did you mean "server_name"/ },
  { name: "unknown key upstrem", input: `version: 1\nsites:\n  - server_name: example.com\n    homeserver:\n      host: matrix.example.com\n      upstrem: http://127.0.0.1:6167\n`, line: 6, column: 7, message: /did you mean "upstream"/ },
  { name: "unknown top-level key site", input: `version: 1\nsite:\n${VALID_SITE}`, line: 2, column: 1, message: /did you mean "sites"/ },
  { name: "unknown key welknown", input: `version: 1\nsites:\n${VALID_SITE}    welknown:\n      server: false\n`, line: 7, column: 5, message: /did you mean "well_known"/ },
  // resource exhaustion
  { name: "billion laughs (alias bomb)", input: billionLaughs(), message: /alias/i },
  { name: "deeply nested flow sequences", input: `version: 1\nsites: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n` },
  { name: "deeply nested block sequences", input: `version: 1\nsites:\n${Array.from({ length: 4000 }, (_, i) => `${" ".repeat(i)}- \n`).join("")}` },
  { name: "huge file (65 MiB, sparse)", input: (p) => (writeFileSync(p, "version: 1\n"), truncateSync(p, 65 * 1024 * 1024)), line: 1, message: /64 MiB|large/ },
  { name: "a 1024+ character key", input: `version: 1\nsites:\n${VALID_SITE}${"k".repeat(2_000_000)}: 1\n` },
  // not text
  { name: "binary data with NUL bytes", input: bytes(5000, 7), message: /binary|NUL/i },
  { name: "binary data without NUL bytes", input: bytes(5000, 11, 0x80, 0x100) },
  { name: "Latin-1 text (not UTF-8)", input: Buffer.from(`version: 1\nsites:\n  - server_name: m\u00fcnchen.example\n    homeserver:\n      host: matrix.example.com\n      upstream: http://127.0.0.1:6167\n`, "latin1"), line: 3 },
  // empty and non-documents
  { name: "empty file", input: "", line: 1, message: /empty/ },
  { name: "only whitespace", input: "\n\n   \n", line: 1, message: /empty/ },
  { name: "only a comment", input: "# nothing here\n", line: 1 },
  { name: "a list instead of a mapping", input: "- a\n- b\n", line: 1 },
  { name: "a scalar instead of a mapping", input: "hello\n", line: 1 },
  // not a file
  { name: "a directory", input: (p) => mkdirSync(p), line: 1, message: /folder|director/i },
  { name: "a missing file", input: () => {}, line: 1, message: /no such file|not found|missing/i },
  { name: "a FIFO (no writer)", input: (p) => execFileSync("mkfifo", [p]), line: 1 },
  { name: "a character device (/dev/zero)", input: () => {}, arg: "/dev/zero", line: 1 },
  { name: "a character device (/dev/urandom)", input: () => {}, arg: "/dev/urandom", line: 1 },
  { name: "an endless standard input (- fed from /dev/zero)", input: () => {}, arg: "-", stdin: "/dev/zero", line: 1 },
];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  maxRssKb: number;
  killed: boolean;
  before: string[];
  after: string[];
  out: string;
  display: string;
}

function runCli(args: string[], cwd: string, stdin?: string): Promise<Omit<Outcome, "before" | "after" | "out" | "display">> {
  const mem = join(cwd, ".mem");
  return new Promise((resolve) => {
    const started = Date.now();
    // /usr/bin/time reports the peak RSS; the process group is killed if it outlives the limit.
    const input = stdin ? openSync(stdin, "r") : "ignore";
    const child = spawn("/usr/bin/time", ["-o", mem, "-f", "%M", process.execPath, CLI, ...args], { cwd, detached: true, stdio: [input, "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    if (typeof input === "number") closeSync(input);
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, TIME_LIMIT_MS + 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const rss = existsSync(mem) ? Number(readFileSync(mem, "utf8").trim().split("\n").pop()) : NaN;
      resolve({ code, stdout, stderr, ms: Date.now() - started, maxRssKb: rss, killed });
    });
  });
}

const outcomes = new Map<string, Outcome>();

describe("broken input: node dist/cli.js render FILE --out OUT", () => {
  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} missing: build first (node scripts/build.mjs --no-types)`);
    // A few at a time, so the time limit measures the CLI, not a crowded machine.
    let next = 0;
    const one = async (c: Case, i: number) => {
        const cwd = join(DIR, `case-${i}`);
        mkdirSync(cwd);
        const file = join(cwd, "site.yaml");
        if (typeof c.input === "function") c.input(file);
        else writeFileSync(file, c.input);
        const display = c.arg === "-" ? "<stdin>" : c.arg ?? "site.yaml";
        const list = () => readdirSync(cwd).filter((f) => f !== ".mem").sort();
        const before = list();
        const r = await runCli(["render", c.arg ?? "site.yaml", "--out", "out"], cwd, c.stdin);
        outcomes.set(c.name, { ...r, before, after: list(), out: join(cwd, "out"), display });
    };
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < CASES.length) {
        const i = next++;
        await one(CASES[i]!, i);
      }
    }));
  });

  for (const c of CASES) {
    test(c.name, () => {
      const o = outcomes.get(c.name)!;
      const context = `exit ${o.code}, ${o.ms} ms, ${o.maxRssKb} KB\nstderr:\n${o.stderr.slice(0, 2000)}\nstdout:\n${o.stdout.slice(0, 500)}`;
      assert.ok(!o.killed, `still running after ${TIME_LIMIT_MS + 1000} ms (killed)\n${context}`);
      assert.ok(o.ms < TIME_LIMIT_MS, `took ${o.ms} ms (limit ${TIME_LIMIT_MS})\n${context}`);
      assert.ok(o.maxRssKb < MEMORY_LIMIT_KB, `peak memory ${o.maxRssKb} KB (limit ${MEMORY_LIMIT_KB})\n${context}`);
      assert.equal(o.code, 1, `exit code\n${context}`);
      assert.doesNotMatch(o.stderr, /^\s+at |internal error|Error: .*\n\s+at /m, `stack trace or internal error\n${context}`);
      const esc = o.display.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const positioned = o.stderr.split("\n").filter((l) => new RegExp(`^${esc}:\\d+:\\d+ `).test(l));
      assert.equal(positioned.length, 1, `expected exactly one error naming ${o.display}:LINE:COL\n${context}`);
      const [, line, column] = new RegExp(`^${esc}:(\\d+):(\\d+) `).exec(positioned[0]!)!;
      if (c.line !== undefined) assert.equal(Number(line), c.line, `error line\n${context}`);
      if (c.column !== undefined) assert.equal(Number(column), c.column, `error column\n${context}`);
      if (c.message) assert.match(positioned[0]!, c.message, `error message\n${context}`);
      assert.match(o.stderr, /nothing was written/, context);
      assert.ok(!existsSync(o.out), `OUT was created\n${context}`);
      assert.deepEqual(o.after, o.before, `files appeared beside the input/OUT\n${context}`);
    });
  }
});

describe("broken input: validate --format json", () => {
  test("a broken file gives JSON diagnostics with line and column, exit 1", async () => {
    const cwd = join(DIR, "json");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "site.yaml"), `version: 1\nsites:\n  - server_nam: example.com\n`);
    const r = await runCli(["validate", "site.yaml", "--format", "json"], cwd);
    assert.equal(r.code, 1, r.stderr);
    const list = JSON.parse(r.stdout) as { file: string; line: number; column: number; message: string }[];
    assert.ok(list.length >= 1);
    const hit = list.find((d) => /server_nam/.test(d.message));
    assert.ok(hit, r.stdout);
    assert.deepEqual([hit.file, hit.line, hit.column], ["site.yaml", 3, 5]);
  });
});
