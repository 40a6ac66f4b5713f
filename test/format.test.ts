// Formatting: rendered YAML and JSON are exactly what prettier produces, the Caddyfile is what
// `caddy fmt` produces, and nginx/Apache output uses one indentation (4 spaces, no tabs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as prettier from "prettier";
import fc from "fast-check";
import { canonicalJson, compileSite } from "../src/index.js";
import { fixtures } from "./_fixtures.js";

const home = mkdtempSync(join(tmpdir(), "mxproxy-fmt-"));
const caddyEnv = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, "d"), XDG_CONFIG_HOME: join(home, "c") };

for (const fx of fixtures()) {
  const files = compileSite("site.yaml", fx.text).files!;
  test(`${fx.name}: YAML and JSON output is prettier-formatted`, async () => {
    for (const f of files.filter((f) => f.path.endsWith(".yml") || f.backend === "well-known")) {
      const parser = f.path.endsWith(".yml") ? "yaml" : "json";
      assert.equal(await prettier.format(f.contents, { parser }), f.contents, f.path);
    }
  });
  test(`${fx.name}: caddy fmt leaves the Caddyfile unchanged`, () => {
    const f = files.find((f) => f.path === "caddy/Caddyfile")!;
    const path = join(home, `${fx.name}.Caddyfile`);
    writeFileSync(path, f.contents);
    const r = spawnSync("caddy", ["fmt", path], { encoding: "utf8", env: caddyEnv });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, f.contents);
  });
  test(`${fx.name}: nginx and Apache files indent with 4 spaces`, () => {
    for (const f of files.filter((f) => f.backend === "nginx" || f.backend === "apache")) {
      const body = f.contents.replace(/return 200 '[^']*(?:\\'[^']*)*';/g, "");
      for (const line of body.split("\n")) assert.match(line, /^( {4})*(\S.*)?$/, `${f.path}: ${JSON.stringify(line)}`);
      assert.doesNotMatch(f.contents, /\t/, f.path);
    }
  });
}

test("canonical JSON is prettier-stable and round-trips for any JSON value", async () => {
  const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  await fc.assert(
    fc.asyncProperty(json, async (v) => {
      const text = canonicalJson(v);
      assert.deepEqual(JSON.parse(text), v);
      assert.match(text, /^[\x20-\x7e\n]*$/, "ASCII only");
      assert.equal(await prettier.format(text, { parser: "json" }), text);
    }),
    { seed: 42, numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
  );
});
