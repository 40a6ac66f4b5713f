// Time of each pipeline stage in one process (library bundle dist/index.js), best of N rounds:
//
//   node bench/stages.mjs SITE.yaml [--rounds N] [--out DIR]
//
// With --out, each round also writes to DIR (emptied first) and then rewrites it unchanged.
import { readFileSync, rmSync } from "node:fs";

const lib = await import(new URL("../dist/index.js", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const file = args[0];
const rounds = Number(opt("--rounds", 3));
const out = opt("--out");
const best = new Map();
const time = (label, fn) => {
  const t = performance.now();
  const r = fn();
  best.set(label, Math.min(best.get(label) ?? Infinity, performance.now() - t));
  return r;
};
for (let round = 0; round < rounds; round++) {
  const text = time("read", () => readFileSync(file, "utf8"));
  const loaded = time("load", () => lib.loadSite(file, text));
  const { input, diagnostics } = time("validate", () => lib.validateSite(loaded));
  if (!input) throw new Error(diagnostics.map(lib.formatDiagnostic).join("\n"));
  const plan = time("plan", () => lib.planSite(input, file));
  for (const b of lib.BACKENDS) time(`render ${b}`, () => lib.renderBackend(plan, b));
  const files = time("render all", () => lib.renderPlan(plan));
  if (out) {
    rmSync(out, { recursive: true, force: true });
    time("write (new)", () => lib.writeOutput(out, files));
    time("write (unchanged)", () => lib.writeOutput(out, files));
  }
}
for (const [label, ms] of best) console.log(`${label.padEnd(18)} ${ms.toFixed(1).padStart(8)} ms`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
