// The mxproxy benchmark (`npm run bench`, after `npm run build`). It generates its own inputs,
// runs each command as a whole process, several times after a warm-up, interleaving the
// candidates, prints min/median/max and the ratios issue 6 sets targets for, and rewrites the
// block between the bench markers in BENCH.md (the rest of that file is written by hand).
//
//   node bench/run.mjs [--runs N] [--scale-runs N] [--out-base DIR] [--baseline CLI] [--no-write]
//
// --out-base: where output folders are made (default: /dev/shm when it is a tmpfs, so the figures
// are mxproxy's own cost rather than this machine's disk; the file system used is reported).
// --baseline: another build's dist/cli.js, run interleaved with this one (before/after figures
// under the same machine load); its rows are printed, the targets are checked for this build.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const cli = join(root, "dist/cli.js");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(option("--runs", 20));
const SCALE_RUNS = Number(option("--scale-runs", 3));
const WRITE = !args.includes("--no-write");
const BASELINE = option("--baseline");
const TARGETS = { coldRatio: 1.3, tenKSeconds: 2, tenKRssMB: 300, linearity: 11 };

if (!existsSync(cli)) {
  console.error(`bench: ${cli} is missing; run "npm run build" first`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "mxproxy-bench-"));
const outBase = option("--out-base", isTmpfs("/dev/shm") ? "/dev/shm" : work);
mkdirSync(outBase, { recursive: true });
const minimal = join(root, "fixtures/minimal/site.yaml");
const inputs = { 1000: join(work, "sites-1000.yaml"), 10000: join(work, "sites-10000.yaml") };
for (const [n, file] of Object.entries(inputs)) writeFileSync(file, sites(Number(n)));
const started = Date.now();
const load = loadavg()[0];

try {
  console.log(`mxproxy bench: ${availableParallelism()} cores, Node ${process.version}, load average ${load.toFixed(2)}; output under ${outBase} (${fsName(outBase)})\n`);

  // 1. Start-up: bare node against the two commands run on every commit.
  const base = (label, argv) => (BASELINE ? [{ label: `${label} (baseline)`, argv: [BASELINE, ...argv.slice(1)] }] : []);
  const coldRender = [cli, "render", minimal, "--out", "@OUT"];
  const coldValidate = [cli, "validate", minimal];
  const cold = measure(
    [
      { label: "node -e 0", argv: ["-e", "0"] },
      { label: "render minimal (4 backends)", argv: coldRender },
      { label: "validate minimal", argv: coldValidate },
      ...base("render minimal", coldRender),
      ...base("validate minimal", coldValidate),
    ],
    RUNS,
    false,
  );
  // 2. Scale: 1,000 and 10,000 sites, all four backends, written to a fresh folder.
  const render1k = [cli, "render", inputs[1000], "--out", "@OUT"];
  const render10k = [cli, "render", inputs[10000], "--out", "@OUT"];
  const scale = measure(
    [{ label: "render 1,000 sites", argv: render1k }, { label: "render 10,000 sites", argv: render10k }, ...base("render 1,000 sites", render1k), ...base("render 10,000 sites", render10k)],
    SCALE_RUNS,
    true,
  );

  const [bare, render, validate] = cold;
  const [oneK, tenK] = scale;
  const results = {
    coldRender: render.median / bare.median,
    coldValidate: validate.median / bare.median,
    tenKSeconds: tenK.median / 1000,
    tenKRssMB: Math.max(...tenK.rss) / 1024,
    linearity: tenK.median / oneK.median,
    coldRenderMin: render.min / bare.min,
    coldValidateMin: validate.min / bare.min,
  };
  const verdict = (ok) => (ok ? "met" : "NOT met");
  const summary = [
    `cold start, render ÷ node -e 0 (median): ${results.coldRender.toFixed(2)}× (target ≤ ${TARGETS.coldRatio}×: ${verdict(results.coldRender <= TARGETS.coldRatio)})`,
    `cold start, validate ÷ node -e 0 (median): ${results.coldValidate.toFixed(2)}× (target ≤ ${TARGETS.coldRatio}×: ${verdict(results.coldValidate <= TARGETS.coldRatio)})`,
    `cold start, fastest runs (min ÷ min, less sensitive to other load on the machine): render ${results.coldRenderMin.toFixed(2)}×, validate ${results.coldValidateMin.toFixed(2)}×`,
    `10,000 sites, wall (median): ${results.tenKSeconds.toFixed(2)} s (target < ${TARGETS.tenKSeconds} s: ${verdict(results.tenKSeconds < TARGETS.tenKSeconds)})`,
    `10,000 sites, peak RSS (max): ${results.tenKRssMB.toFixed(0)} MB (target < ${TARGETS.tenKRssMB} MB: ${verdict(results.tenKRssMB < TARGETS.tenKRssMB)})`,
    `10,000 ÷ 1,000 sites (median): ${results.linearity.toFixed(2)}× (target ≤ ${TARGETS.linearity}×: ${verdict(results.linearity <= TARGETS.linearity)})`,
  ];
  console.log(table([...cold, ...scale]));
  console.log(`\n${summary.join("\n")}`);
  console.log(`\nbench: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (WRITE) writeBenchMd([...cold, ...scale], summary, outBase, load);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// --- internal ---

/** sites writes a site file with `n` sites; every 3rd has federation on 8448, every 5th a support document. */
function sites(n) {
  const out = ["# Generated by bench/run.mjs", "version: 1", "defaults:", "  homeserver:", "    max_upload: 100M", "sites:"];
  for (let i = 0; i < n; i++) {
    out.push(`  - server_name: s${i}.example.com`, "    homeserver:", `      host: matrix.s${i}.example.com`, `      upstream: http://127.0.0.1:${6000 + (i % 1000)}`);
    if (i % 3 === 0) out.push("    federation:", "      port: 8448");
    if (i % 5 === 0) out.push("    well_known:", "      support:", "        contacts:", `          - email_address: admin@s${i}.example.com`, "            role: m.role.admin");
  }
  return out.join("\n") + "\n";
}

/**
 * measure runs every candidate once as a warm-up, then `runs` rounds in which each runs once
 * (the order rotates every round). "@OUT" in an argument becomes a fresh, empty output folder.
 * With `rss`, the command runs under /usr/bin/time -v (or a preload) to read its peak RSS.
 */
function measure(candidates, runs, rss) {
  const stats = candidates.map((c) => ({ ...c, times: [], rss: [] }));
  for (let round = -1; round < runs; round++) {
    for (let k = 0; k < stats.length; k++) {
      const c = stats[(k + Math.max(round, 0)) % stats.length];
      const out = mkdtempSync(join(outBase, "mxproxy-bench-out-"));
      rmSync(out, { recursive: true });
      const argv = c.argv.map((a) => (a === "@OUT" ? out : a));
      const r = run(argv, rss);
      rmSync(out, { recursive: true, force: true });
      if (r.status !== 0) c.failed = `exit ${r.status}: ${r.stderr.trim().split("\n")[0]}`;
      if (r.status !== 0 && !c.label.endsWith("(baseline)")) throw new Error(`bench: ${c.label} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
      if (round >= 0 && r.status === 0) {
        c.times.push(r.ms);
        if (r.rssKB !== undefined) c.rss.push(r.rssKB);
      }
    }
  }
  for (const c of stats) {
    const t = [...c.times].sort((a, b) => a - b);
    if (t.length === 0) t.push(NaN);
    Object.assign(c, { min: t[0], median: t.length % 2 ? t[t.length >> 1] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2, max: t[t.length - 1] });
  }
  return stats;
}

function run(argv, rss) {
  const time = rss && existsSync("/usr/bin/time");
  const env = { ...process.env, NO_COLOR: "1" };
  let file;
  let cmd = [process.execPath, ...argv];
  if (time) cmd = ["/usr/bin/time", "-v", ...cmd];
  else if (rss) {
    file = join(work, "rss");
    cmd = [process.execPath, "-r", join(root, "bench/rss.cjs"), ...argv];
    env.MXPROXY_BENCH_RSS = file;
  }
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let rssKB;
  if (time) rssKB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  else if (file) rssKB = Number(readFileSync(file, "utf8"));
  return { status: r.status, stderr: r.stderr, ms, rssKB };
}

function table(stats) {
  const rows = stats.map((c) => [c.failed && !c.times.length ? `${c.label}: ${c.failed}` : c.label, c.min.toFixed(0), c.median.toFixed(0), c.max.toFixed(0), c.rss.length ? `${(Math.max(...c.rss) / 1024).toFixed(0)}` : "", String(c.times.length)]);
  const head = ["command", "min ms", "median ms", "max ms", "peak RSS MB", "runs"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((x, i) => (i === 0 ? x.padEnd(width[i]) : x.padStart(width[i]))).join(" | ")} |`;
  return [line(head), `|${width.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.map(line)].join("\n");
}

function writeBenchMd(stats, summary, outBase, load) {
  const file = join(root, "BENCH.md");
  const START = "<!-- bench:start -->";
  const END = "<!-- bench:end -->";
  let text = existsSync(file) ? readFileSync(file, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  if (!text.includes(START) || !text.includes(END)) text = `${text.trimEnd()}\n\n${START}\n${END}\n`;
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim() || "unknown";
  const block = [
    START,
    "<!-- Written by bench/run.mjs (npm run bench); edits between these markers are overwritten. -->",
    "",
    `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${availableParallelism()} cores (${cpu}), Node ${process.version}, commit ${commit}` +
      ` (plus uncommitted changes, if any); load average ${load.toFixed(2)} when it started. Output folders on ${outBase} (${fsName(outBase)}).` +
      ` Wall time of the whole process, ${stats[0].times.length} interleaved runs after a warm-up for start-up, ${stats[stats.length - 1].times.length} for scale.`,
    "",
    table(stats),
    "",
    ...summary.map((s) => `- ${s}`),
    END,
  ].join("\n");
  text = text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length);
  writeFileSync(file, text);
  console.log(`bench: ${file} updated`);
}

function isTmpfs(dir) {
  try {
    return statfsSync(dir).type === 0x01021994;
  } catch {
    return false;
  }
}

function fsName(dir) {
  const types = { 0x01021994: "tmpfs", 0xef53: "ext4", 0x9123683e: "btrfs", 0x58465342: "xfs", 0x794c7630: "overlayfs" };
  try {
    const t = statfsSync(dir).type;
    return types[t] ?? `file system type 0x${t.toString(16)}`;
  } catch {
    return "unknown file system";
  }
}
