// The performance work (BENCH.md) added fast paths beside slower, simpler ones. Each must give
// exactly the slower one's answer; these tests compare the two on fixtures and generated inputs.
//  - src/input/_yaml-fast.ts reads a file only where `yaml` reads the same value with no complaint;
//    positions are then computed by `yaml` when first asked for.
//  - the schema validator is compiled at build time (ajv standalone, ASCII fast path for
//    Unicode patterns); it must report what ajv compiling the schema at run time reports.
//  - src/plan/_sha256.ts and src/input/_ip.ts stand in for node:crypto and node:net.
//  - dist/cli.js runs `render SITE --out DIR` and `validate SITE...` without yargs; the output,
//    files and exit codes must be those of the yargs CLI (MXPROXY_FULL_CLI=1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AjvModule from "ajv";
import fc from "fast-check";
import { LineCounter, parse, parseDocument } from "yaml";
import { readSimpleYaml } from "../src/input/_yaml-fast.js";
import { loadSite } from "../src/input/_load.js";
import { compileSchema } from "../src/input/_schema-validator.js";
import { sha256Hex } from "../src/plan/_sha256.js";
import { isIP } from "../src/input/_ip.js";
import { ROOT, FIXTURES, errorFixtures, fixtures } from "./_fixtures.js";

// --- the YAML reader ---

/** reference reads text the way src/input/_load.ts does; undefined when `yaml` reports anything. */
function reference(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: false });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  try {
    return { value: doc.toJS({ maxAliasCount: 1000 }) };
  } catch {
    return undefined;
  }
}

/** agrees checks one text; true when the fast reader took it. */
function agrees(text: string): boolean {
  const fast = readSimpleYaml(text);
  if (fast === undefined) return false;
  const ref = reference(text);
  assert.ok(ref, `the fast reader accepted what yaml rejects:\n${text}`);
  assert.deepEqual(fast.value, ref.value, text);
  return true;
}

const KEYS = ["version", "sites", "server_name", "host", "m.server", "org.matrix.msc3575.proxy", "a-b", "_x", "x1", "upstream", "port", "client"];
const ODD_KEYS = ["true", "null", "__proto__", "1", "a b", "a:b", '"q"'];
const SAFE = ["example.com", "http://127.0.0.1:6167", "unix:/run/x.sock", "50M", "600s", "a b", "a#b", "x,y", "a!b", "0", "443", "8448", "true", "false", "null", "~", "{}", "[]", '"a"', '"a \\" b"', '"a\\nb"', '"\\u0041"', "'it''s'", "'a\\b'", '""', "''"];
const ODD = ["a #b", "a: b", "a:", "-x", "?x", ":x", "@x", "%x", "`x", "!x", "&x", "*x", "|", ">", "a[b]", "{a}", "007", "-1", "+1", "1.5", ".5", "1e3", "0x1F", "0o17", ".inf", "-.Inf", ".nan", "123456789012345678", "1_000", "Null", "NULL", "True", "TRUE", "FALSE", "yes", "no", "nULL", '"\\x41"', '"\\/"', '"\\ "', '"a" # c', '"a"#c', "'a' x", "{ }", "[x]", "{a: 1}"];
const scalarText = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...SAFE) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9.:/#'" -]{1,12}$/) });
const key = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_KEYS) });
const comment = fc.constantFrom("", " # note", " #", "#x");

type Tree = { kind: "map"; entries: [string, Tree][] } | { kind: "seq"; items: Tree[] } | { kind: "scalar"; text: string };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarText.map((text): Tree => ({ kind: "scalar", text })),
    fc.uniqueArray(fc.tuple(key, tie("node")), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((entries): Tree => ({ kind: "map", entries })),
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((items): Tree => ({ kind: "seq", items })),
  ),
})).node;

/** write lays a tree out as block YAML; `style` picks indentation widths and where sequences sit. */
function write(t: Tree, indent: number, style: { step: number; sameIndentSeq: boolean; comments: string[] }, out: string[]): void {
  const pad = " ".repeat(indent);
  const note = () => style.comments[out.length % style.comments.length] ?? "";
  if (t.kind === "map") {
    for (const [k, v] of t.entries) {
      if (v.kind === "scalar") out.push(`${pad}${k}: ${v.text}${v.text.startsWith("'") || v.text.startsWith('"') ? "" : note()}`);
      else {
        out.push(`${pad}${k}:${note()}`);
        write(v, v.kind === "seq" && style.sameIndentSeq ? indent : indent + style.step, style, out);
      }
    }
  } else if (t.kind === "seq") {
    for (const item of t.items) {
      if (item.kind === "scalar") out.push(`${pad}- ${item.text}`);
      else if (item.kind === "map") {
        const first = out.length;
        write(item, indent + 2, style, out);
        out[first] = `${pad}- ${out[first]!.slice(indent + 2)}`;
      } else {
        out.push(`${pad}-`);
        write(item, indent + style.step, style, out);
      }
    }
  } else out.push(`${pad}${t.text}`);
}

const document = fc
  .tuple(
    fc.uniqueArray(fc.tuple(key, tree), { minLength: 1, maxLength: 4, selector: ([k]) => k }),
    fc.record({ step: fc.constantFrom(1, 2, 4), sameIndentSeq: fc.boolean(), comments: fc.array(comment, { maxLength: 3 }) }),
    fc.boolean(),
  )
  .map(([entries, style, blank]) => {
    const out: string[] = [];
    write({ kind: "map", entries }, 0, style, out);
    if (blank) out.splice(1, 0, "", "# a comment line");
    return out.join("\n") + "\n";
  });

test("yaml fast reader: same values as yaml on generated block documents", () => {
  let accepted = 0;
  fc.assert(
    fc.property(document, (text) => {
      if (agrees(text)) accepted++;
    }),
    { numRuns: 3000 },
  );
  assert.ok(accepted > 600, `only ${accepted} of 3000 documents took the fast path`);
});

test("yaml fast reader: never accepts what yaml reads differently, on damaged documents", () => {
  const damage = fc.tuple(document, fc.nat(), fc.nat(), fc.constantFrom(" ", "  ", "\t", "-", "- ", ":", " #", "'", '"', "{", "]", "&a ", "*a", "!!str ", "|", "---", "? ", "\r", "é", ""));
  fc.assert(
    fc.property(damage, ([text, line, col, insert]) => {
      const lines = text.split("\n");
      const i = line % lines.length;
      const l = lines[i]!;
      const at = col % (l.length + 1);
      lines[i] = l.slice(0, at) + insert + l.slice(at);
      agrees(lines.join("\n"));
      agrees(lines.filter((_, j) => j !== i).join("\n"));
      agrees(lines.map((x, j) => (j === i ? x.trimStart() : x)).join("\n"));
    }),
    { numRuns: 3000 },
  );
});

test("yaml fast reader: the usual site files take it, with yaml's value", () => {
  for (const fx of [...fixtures(), ...errorFixtures()]) {
    const fast = readSimpleYaml(fx.text);
    if (fast) assert.deepEqual(fast.value, reference(fx.text)?.value, fx.name);
  }
  for (const name of ["minimal", "full", "three-sites", "support", "tls-files", "unix-socket"]) {
    assert.ok(readSimpleYaml(fixtures().find((f) => f.name === name)!.text), `${name} takes the fast path`);
  }
});

test("yaml fast reader: positions are yaml's, computed when first asked for", () => {
  for (const fx of [...fixtures(), ...errorFixtures()]) {
    if (!readSimpleYaml(fx.text)) continue;
    const fast = loadSite("site.yaml", fx.text);
    // A non-ASCII comment at the end sends the same text through yaml without moving anything.
    const slow = loadSite("site.yaml", `${fx.text}# é\n`);
    assert.deepEqual(fast.value, slow.value, fx.name);
    assert.equal(fast.positions.size, slow.positions.size, fx.name);
    assert.deepEqual([...fast.positions], [...slow.positions], fx.name);
  }
});

// --- the schema validator ---

const schema = JSON.parse(readFileSync(join(ROOT, "schema/site.schema.json"), "utf8"));
const ajv = new AjvModule.default({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, strictRequired: false });
ajv.addKeyword("x-expected");
const runtimeValidator = ajv.compile(schema);
const buildValidator = compileSchema();

function sameErrors(value: unknown): void {
  const ok = runtimeValidator(value);
  const errors = structuredClone(runtimeValidator.errors ?? null);
  assert.equal(buildValidator(value), ok);
  assert.deepEqual(structuredClone(buildValidator.errors ?? null), errors);
}

test("schema validator: build-time code reports what ajv reports, on every fixture", () => {
  for (const fx of [...fixtures(), ...errorFixtures()]) {
    let value: unknown;
    try {
      value = parse(fx.text);
    } catch {
      continue; // YAML errors never reach the schema
    }
    sameErrors(value);
  }
});

test("schema validator: build-time code reports what ajv reports, on mutated sites", () => {
  const base = parse(readFileSync(join(FIXTURES, "full/site.yaml"), "utf8"));
  const hostish = fc.constantFrom("bücher.example", "例え.jp", "xn--bcher-kva.example", "a_b.example", "-a.example", "a.example.", "ex\u0301ample.com", "münchen.de:443", "[::1]:8448", "ünicode");
  const leaf = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), hostish, fc.integer(), fc.boolean(), fc.constant(null), fc.constant("unix:/run/x.sock"), fc.constant("http://[::1]:8008"), fc.constant("50M"), fc.constant({}), fc.constant([]));
  // Replace or add one value somewhere in the document, then compare both validators.
  const mutation = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(leaf, fc.dictionary(fc.constantFrom("host", "hots", "upstream", "port", "client", "x"), leaf)));
  fc.assert(
    fc.property(mutation, ([path, value]) => {
      const doc = structuredClone(base);
      let cur: Record<string, unknown> = doc;
      for (let i = 0; i < path.length; i++) {
        const keys = Object.keys(cur);
        if (keys.length === 0) break;
        const k = keys[path[i]! % keys.length]!;
        const next = cur[k];
        if (i === path.length - 1 || next === null || typeof next !== "object") {
          cur[k] = value;
          break;
        }
        cur = next as Record<string, unknown>;
      }
      sameErrors(doc);
    }),
    { numRuns: 1000 },
  );
});

// --- stand-ins for node:crypto and node:net ---

test("sha256Hex is node:crypto's SHA-256 of the UTF-8 bytes", () => {
  const native = (s: string) => createHash("sha256").update(s).digest("hex");
  for (let n = 0; n < 200; n++) assert.equal(sha256Hex("a".repeat(n)), native("a".repeat(n)));
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.string({ maxLength: 3000 })), (s) => sha256Hex(s) === native(s)), { numRuns: 5000 });
  const big = "x€".repeat(200_000);
  assert.equal(sha256Hex(big), native(big));
});

test("isIP answers as node:net's isIP", () => {
  for (const s of ["127.0.0.1", "::1", "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "fe80::1%eth0", "::ffff:1.2.3.4", "example.com", "", "0.0.0.0", "[::1]", "1:2:3:4:5:6:7:8", "1::", "١.٢.٣.٤"]) {
    assert.equal(isIP(s), net.isIP(s), s);
  }
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string(), fc.stringMatching(/^[0-9.:a-f%]{0,20}$/)), (s) => isIP(s) === net.isIP(s)), { numRuns: 20000 });
});

// --- the CLI's fast path ---

const CLI = join(ROOT, "dist/cli.js");

/** both runs the built CLI twice, fast path and yargs, each with its own copy of `setup`'s files. */
function both(args: (dir: string) => string[], setup: (dir: string) => void = () => {}) {
  return [false, true].map((full) => {
    const dir = mkdtempSync(join(tmpdir(), "mxproxy-fast-"));
    try {
      setup(dir);
      const r = spawnSync(process.execPath, [CLI, ...args(dir)], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", MXPROXY_FULL_CLI: full ? "1" : "" } });
      const files = listing(dir);
      return { code: r.status, stdout: r.stdout.replaceAll(dir, "DIR"), stderr: r.stderr.replaceAll(dir, "DIR"), files };
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function listing(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) return [`${p.slice(base.length)} -> link`];
    return e.isDirectory() ? listing(p, base) : [`${p.slice(base.length)} ${readFileSync(p, "utf8").length}`];
  });
}

test("cli fast path: render and validate give the yargs CLI's output, files and exit code", () => {
  const minimal = join(FIXTURES, "minimal/site.yaml");
  const bad = join(FIXTURES, "_errors_/duplicate-names/site.yaml");
  const cases: [string, (dir: string) => string[], ((dir: string) => void)?][] = [
    ["render", (d) => ["render", minimal, "--out", join(d, "out")]],
    ["render -o", (d) => ["render", join(FIXTURES, "full/site.yaml"), "-o", join(d, "out")]],
    ["render --out=", (d) => ["render", `--out=${join(d, "out")}`, minimal]],
    ["render relative", () => ["render", minimal, "--out", "out"]],
    ["render, unchanged", () => ["render", minimal, "--out", "out"], (d) => void spawnSync(process.execPath, [CLI, "render", minimal, "--out", join(d, "out")])],
    ["render invalid", (d) => ["render", bad, "--out", join(d, "out")]],
    ["render yaml error", (d) => ["render", join(FIXTURES, "_errors_/yaml-syntax/site.yaml"), "--out", join(d, "out")]],
    ["render missing file", (d) => ["render", join(d, "nope.yaml"), "--out", join(d, "out")]],
    ["render foreign file", (d) => ["render", minimal, "--out", join(d, "out")], (d) => (mkdirSync(join(d, "out/nginx"), { recursive: true }), writeFileSync(join(d, "out/nginx/example.com.conf"), "mine\n"))],
    ["render symlink", (d) => ["render", minimal, "--out", join(d, "out")], (d) => (mkdirSync(join(d, "out"), { recursive: true }), symlinkSync("/tmp", join(d, "out/nginx")))],
    ["render unwritable", (d) => ["render", minimal, "--out", join(d, "ro/out")], (d) => (mkdirSync(join(d, "ro")), chmodSync(join(d, "ro"), 0o555))],
    ["render warning", (d) => ["render", join(FIXTURES, "unix-socket/site.yaml"), "--out", join(d, "out")]],
    ["validate", () => ["validate", minimal]],
    ["validate several", () => ["validate", minimal, join(FIXTURES, "three-sites/site.yaml")]],
    ["validate invalid", () => ["validate", minimal, bad, join(FIXTURES, "_errors_/unknown-key/site.yaml")]],
  ];
  for (const [name, args, setup] of cases) {
    const [fast, full] = both(args, setup);
    assert.deepEqual(fast, full, name);
  }
});
