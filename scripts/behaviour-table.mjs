#!/usr/bin/env node
// `npm run table`: runs the live conformance suite (real nginx, Apache, Caddy) and the Traefik
// configuration checks, then rewrites the block between <!-- behaviour:start --> and
// <!-- behaviour:end --> in README.md with a behaviour × backend table built from their results
// (.tmp/probe-results.json, .tmp/traefik-results.json). The table holds no timings, so it only
// changes when behaviour does.
//   node scripts/behaviour-table.mjs            run both suites, then write the table
//   node scripts/behaviour-table.mjs --no-run   use the results of the last full run
//   node scripts/behaviour-table.mjs --check    write nothing; exit 1 when README's table is stale
// Exit codes: 0 table written (or up to date) and no probe failed; 1 a probe failed (the table
// then says so, and is still written) or --check found a stale table; 2 usage or missing results.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unknown = args.filter((a) => !["--no-run", "--check"].includes(a));
if (unknown.length > 0) {
  process.stderr.write(`behaviour-table: unknown option ${unknown.join(" ")} (accepted: --no-run, --check)\n`);
  process.exit(2);
}
const run = !args.includes("--no-run") && !args.includes("--check");
const README = join(root, "README.md");
const START = "<!-- behaviour:start -->";
const END = "<!-- behaviour:end -->";
const LIVE = join(root, ".tmp", "probe-results.json");
const TRAEFIK = join(root, ".tmp", "traefik-results.json");

const started = Date.now();
if (run) {
  const tests = ["test/conformance.test.ts", "test/traefik-plan.test.ts"];
  process.stderr.write(`behaviour-table: running ${tests.join(" and ")} …\n`);
  // MXPROXY_PROBE_FIXTURES would give a partial run, which writes no results file.
  const env = { ...process.env };
  delete env.MXPROXY_PROBE_FIXTURES;
  spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=dot", ...tests], { cwd: root, stdio: "inherit", env });
}
for (const f of [LIVE, TRAEFIK]) {
  if (!existsSync(f) || (run && statSync(f).mtimeMs < started)) {
    process.stderr.write(`behaviour-table: ${f} is missing${run ? " or was not written by this run (did the suite crash?)" : "; run without --no-run first"}\n`);
    process.exit(2);
  }
}
const live = JSON.parse(readFileSync(LIVE, "utf8"));
const traefik = JSON.parse(readFileSync(TRAEFIK, "utf8"));
// A fixture × backend without any result means that run crashed before its probes: a table
// built from it would show "—" where a failure belongs.
const missing = [
  ...live.fixtures.flatMap((f) => live.backends.map((b) => [f, b])),
  ...traefik.fixtures.map((f) => [f, "traefik"]),
].filter(([f, b]) => ![...live.results, ...traefik.results].some((r) => r.fixture === f && r.backend === b));
if (missing.length > 0) {
  process.stderr.write(`behaviour-table: no results for ${missing.map(([f, b]) => `${f} × ${b}`).join(", ")}; fix the run first\n`);
  process.exit(2);
}

const block = render(live, traefik);
const readme = readFileSync(README, "utf8");
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) {
  process.stderr.write(`behaviour-table: README.md lacks the ${START} … ${END} markers\n`);
  process.exit(2);
}
const next = `${readme.slice(0, a + START.length)}\n${block}${readme.slice(b)}`;
const failed = [...live.results, ...traefik.results].filter((r) => r.outcome === "fail");
if (args.includes("--check")) {
  if (next !== readme) {
    process.stderr.write("behaviour-table: README.md's behaviour table is not what the last results say; run `npm run table`\n");
    process.exit(1);
  }
  process.stderr.write("behaviour-table: README.md's behaviour table is up to date\n");
  process.exit(0);
}
if (next !== readme) writeFileSync(README, next);
process.stderr.write(
  `behaviour-table: README.md ${next === readme ? "already up to date" : "updated"}; ${live.results.length + traefik.results.length} results, ${failed.length} failed\n`,
);
process.exit(failed.length > 0 ? 1 : 0);

// --- rendering ---

function render(live, traefik) {
  const backends = [
    ...live.backends.map((id) => ({ id, label: { nginx: "nginx", apache: "Apache httpd", caddy: "Caddy" }[id] ?? id, structural: false })),
    { id: "traefik", label: "Traefik", structural: true },
  ];
  const all = [...live.results, ...traefik.results];
  const notes = [];
  const note = (text) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const rows = live.behaviours.map((beh) => {
    const cells = backends.map((be) => cell(all.filter((r) => r.behaviour === beh.id && r.backend === be.id), be, note));
    return `| ${beh.title} | ${cells.join(" | ")} |`;
  });
  const v = live.versions ?? {};
  const lines = [
    "",
    `Generated by \`npm run table\` from the last full test run: ${live.fixtures.length} fixtures served on loopback by`,
    `nginx ${v.nginx ?? "?"}, Apache httpd ${v.apache ?? "?"} and Caddy ${v.caddy ?? "?"} with the same probes`,
    "(`test/conformance.test.ts`, probes derived from the Plan in `test/probes/`), and the Traefik output checked",
    "against its schema and a model of Traefik's routing (`test/traefik-plan.test.ts`). Do not edit by hand.",
    "",
    `| behaviour | ${backends.map((b) => b.label).join(" | ")} |`,
    `| --- | ${backends.map(() => "---").join(" | ")} |`,
    ...rows,
    "",
    "**pass**: every fixture shows it on the running server; **config**: Traefik's configuration does it",
    "(Traefik does not run here); **differs**: the backend cannot, and the test holds it to the stated",
    "alternative instead; **FAIL**: a probe failed (see the note); —: not checked for this backend.",
    "",
    ...notes.map((n, i) => `${i + 1}. ${n}`),
    "",
  ];
  return lines.join("\n");
}

function cell(results, backend, note) {
  if (results.length === 0) return "—";
  const fails = results.filter((r) => r.outcome === "fail");
  if (fails.length > 0) {
    const fixtures = [...new Set(fails.map((r) => r.fixture))].sort();
    // first line of the first failure, without the response body it may quote
    const first = fails[0].message.split("\n")[0].replace(/, body ".*$/, "").replace(/:[0-9]{5}\b/g, ":PORT").replace(/\|/g, "\\|").slice(0, 240);
    return `**FAIL** ${note(`${backend.label}: ${fails.length} probe(s) fail (${fixtures.join(", ")}); first: ${fails[0].probe} — ${first}`)}`;
  }
  const diffs = [...new Set(results.filter((r) => r.outcome === "difference").map((r) => r.message))].sort();
  const passed = results.some((r) => r.outcome === "pass");
  if (diffs.length > 0) {
    const marks = diffs.map((d) => note(`${backend.label}: ${d}`)).join(" ");
    return `${passed ? `${backend.structural ? "config" : "pass"}, ` : ""}differs ${marks}`;
  }
  if (!passed) return `n/a ${note(`${backend.label}: ${results[0].message}`)}`;
  return backend.structural ? "config" : "pass";
}
