// Golden files: every fixture × backend renders exactly the committed expected/ tree. Goldens
// change only with UPDATE_GOLDEN=1 (then review `git diff fixtures/`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { compileSite, formatDiagnostic } from "../src/index.js";
import type { RenderedFile } from "../src/index.js";
import { errorFixtures, fixtures, UPDATE } from "./_fixtures.js";

const GROUPS = ["nginx", "apache", "caddy", "traefik", "well-known"] as const;

for (const fx of fixtures()) {
  const compiled = compileSite("site.yaml", fx.text);
  test(`${fx.name}: renders without errors`, () => {
    assert.deepEqual(compiled.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic), []);
  });
  for (const group of GROUPS) {
    test(`${fx.name} × ${group}: matches the golden files`, () => {
      const files = (compiled.files ?? []).filter((f) => (f.path.split("/")[0] === group));
      assert.ok(files.length > 0, "renders at least one file");
      compareTree(join(fx.dir, "expected", group), files, group);
    });
  }
  test(`${fx.name}: rendering twice gives the same bytes`, () => {
    assert.deepEqual(compileSite("site.yaml", fx.text).files, compiled.files);
  });
}

for (const fx of errorFixtures()) {
  test(`error case ${fx.name}: the exact messages`, () => {
    const compiled = compileSite("site.yaml", fx.text);
    assert.equal(compiled.files, undefined, "nothing is rendered");
    const actual = compiled.diagnostics.map(formatDiagnostic).join("\n") + "\n";
    const golden = join(fx.dir, "expected.txt");
    if (UPDATE) writeFileSync(golden, actual);
    assert.ok(existsSync(golden), `missing golden ${golden} (run UPDATE_GOLDEN=1 npm test)`);
    assert.equal(actual, readFileSync(golden, "utf8"));
  });
}

/** compareTree asserts that `dir` holds exactly `files` (paths relative to the out folder). */
function compareTree(dir: string, files: RenderedFile[], group: string): void {
  if (UPDATE) {
    rmSync(dir, { recursive: true, force: true });
    for (const f of files) {
      const target = join(dir, relative(group, f.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.contents);
    }
  }
  assert.ok(existsSync(dir), `missing golden folder ${dir} (run UPDATE_GOLDEN=1 npm test, then review git diff)`);
  const expected = walk(dir).sort();
  assert.deepEqual(files.map((f) => relative(group, f.path)).sort(), expected, "the same set of files");
  for (const f of files) assert.equal(f.contents, readFileSync(join(dir, relative(group, f.path)), "utf8"), f.path);
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}
