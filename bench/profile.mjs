// Where a command's time goes: runs `node dist/cli.js ARGS` under --cpu-prof and prints, for each
// thread, self time by file and by function, and the call tree down to 1% (or below the
// functions named by --under).
//
//   node bench/profile.mjs [--interval µs] [--top N] [--under NAME] -- render fixtures/minimal/site.yaml --out /tmp/x
//
// dist/ is minified; `node scripts/build.mjs --no-types --no-minify` first gives readable names.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const opts = split >= 0 ? argv.slice(0, split) : [];
const args = split >= 0 ? argv.slice(split + 1) : argv;
const opt = (name, fallback) => (opts.includes(name) ? opts[opts.indexOf(name) + 1] : fallback);
const dir = mkdtempSync(join(tmpdir(), "mxproxy-profile-"));
try {
  const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", opt("--interval", "100"), join(root, "dist/cli.js"), ...args], { stdio: ["ignore", "ignore", "inherit"] });
  console.log(`exit ${r.status}`);
  // One profile per thread: the main thread first, then the write threads (if any started).
  for (const [i, f] of readdirSync(dir).sort().entries()) {
    console.log(`\n=== ${i === 0 ? "main thread" : `thread ${i}`} (${f})`);
    summarise(JSON.parse(readFileSync(join(dir, f), "utf8")), Number(opt("--top", 25)), opt("--under"));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function summarise(p, top, under) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = new Map();
  const sum = (n) => {
    let t = self.get(n.id) ?? 0;
    for (const c of n.children ?? []) t += sum(byId.get(c));
    total.set(n.id, t);
    return t;
  };
  const all = sum(p.nodes[0]);
  const where = (n) => (n.callFrame.url ? n.callFrame.url.replace(/^file:\/\/.*\/(dist|node_modules)\//, "$1/") : "");
  const label = (n) => `${n.callFrame.functionName || "(anonymous)"} ${where(n)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
  const ms = (t) => `${(t / 1000).toFixed(1).padStart(7)} ms`;
  const group = (key) => {
    const m = new Map();
    for (const n of p.nodes) m.set(key(n), (m.get(key(n)) ?? 0) + (self.get(n.id) ?? 0));
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  };
  console.log(`sampled ${ms(all)}\n\nself time by file`);
  for (const [k, t] of group((n) => where(n) || `(${n.callFrame.functionName})`)) console.log(`${ms(t)}  ${k}`);
  console.log("\nself time by function");
  for (const [k, t] of group(label)) console.log(`${ms(t)}  ${k}`);
  console.log("\ncall tree");
  const show = (n, depth) => {
    if (total.get(n.id) < all / 100) return;
    console.log(`${ms(total.get(n.id))}  ${"  ".repeat(depth)}${label(n)}`);
    for (const c of (n.children ?? []).map((id) => byId.get(id)).sort((a, b) => total.get(b.id) - total.get(a.id))) show(c, depth + 1);
  };
  const roots = under ? p.nodes.filter((n) => n.callFrame.functionName === under) : [p.nodes[0]];
  for (const n of roots.slice(0, 3)) show(n, 0);
}
