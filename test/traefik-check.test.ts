// Tests for the Traefik checker (test/harness/traefik-check.ts). Samples live as data under
// test/traefik-samples/ (format in its README.md); this file only discovers and runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { parse } from "yaml";
import { checkTraefik, checkTraefikFiles, ruleProblems } from "./harness/traefik-check.js";

const SAMPLES = new URL("./traefik-samples/", import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, SAMPLES), "utf8");
const names = (dir: string, suffix: string): string[] =>
  readdirSync(new URL(dir, SAMPLES))
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .sort();

const validPairs = names("valid/", ".dynamic.yml");
const brokenCases = names("broken/", ".yml");

test("samples are present", () => {
  assert.ok(validPairs.includes("matrix"), "valid/matrix.*.yml is the default base of broken cases");
  assert.ok(brokenCases.length >= 15, `only ${brokenCases.length} broken cases`);
});

for (const name of validPairs) {
  test(`valid: ${name}`, () => {
    const dir = new URL("valid/", SAMPLES);
    const messages = checkTraefikFiles(
      new URL(`${name}.dynamic.yml`, dir).pathname,
      new URL(`${name}.static.yml`, dir).pathname,
    );
    assert.deepEqual(messages, []);
  });
}

interface BrokenCase {
  expect: string | string[];
  dynamic?: string;
  static?: string;
}

for (const name of brokenCases) {
  test(`broken: ${name}`, () => {
    const c = parse(read(`broken/${name}.yml`), { uniqueKeys: true }) as BrokenCase;
    const expected = [c.expect].flat();
    assert.ok(expected.length > 0 && expected.every((e) => typeof e === "string" && e), "expect: needs fragments");
    const messages = checkTraefik(
      c.dynamic ?? read("valid/matrix.dynamic.yml"),
      c.static ?? read("valid/matrix.static.yml"),
    );
    const shown = `messages:\n  ${messages.join("\n  ")}`;
    for (const e of expected)
      assert.ok(
        messages.some((m) => m.includes(e)),
        `no message contains ${JSON.stringify(e)}\n${shown}`,
      );
    for (const m of messages)
      assert.ok(
        expected.some((e) => m.includes(e)),
        `unexpected message ${JSON.stringify(m)}\n${shown}`,
      );
  });
}

test("messages start with label:line:col and the YAML path", () => {
  const [m] = checkTraefik(
    "http:\n  routers:\n    r:\n      rule: 5\n      service: noop@internal\n",
    read("valid/matrix.static.yml"),
  );
  assert.equal(m, "dynamic:4:7: http.routers.r.rule: must be string, got number 5");
});

test("checkTraefikFiles labels messages with the file path", () => {
  const staticPath = new URL("valid/matrix.static.yml", SAMPLES).pathname;
  const messages = checkTraefikFiles(staticPath, staticPath); // a static file is no dynamic file
  assert.ok(messages.length > 0 && messages.every((m) => m.startsWith(`${staticPath}:`)), messages.join("\n"));
});

test("a file that does not parse is reported, and cross-checks are skipped", () => {
  const messages = checkTraefik("http: [", read("valid/matrix.static.yml"));
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /^dynamic:\d+:\d+: YAML: /);
});

test("rule checker", () => {
  const ok = [
    "Host(`example.com`) && PathPrefix(`/.well-known/matrix/`)",
    "Host(`a`) || (Host(`b`) && !Path(`/x`))",
    'Host("example.com") && Header(`X-A`, `it\'s (fine)`)',
    "PathRegexp(`^/_matrix/(client|federation)/`)",
  ];
  for (const r of ok) assert.deepEqual(ruleProblems(r), [], r);
  assert.deepEqual(ruleProblems(" "), ["rule is empty"]);
  assert.match(ruleProblems("Host(`a`))")[0]!, /unbalanced parentheses: "\)"/);
  assert.match(ruleProblems("Host(`a`) & Host(`b`)")[0]!, /unexpected "&"/);
  assert.deepEqual(ruleProblems("HostHeader(`a`)", true), [], "ruleSyntax v2 names are allowed there");
});
