// `npm test`: make sure the real servers are installed (scripts/setup-servers.mjs installs them
// from Debian when running as root, or fails saying what is missing), then run every test file
// with node's test runner. `npm test -- test/golden.test.ts` runs a subset.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const setup = spawnSync(process.execPath, [`${root}scripts/setup-servers.mjs`], { stdio: "inherit" });
if (setup.status !== 0) process.exit(setup.status ?? 1);

const args = process.argv.slice(2);
const files = args.length > 0 ? args : readdirSync(`${root}test`).filter((f) => f.endsWith(".test.ts")).sort().map((f) => `test/${f}`);
const started = Date.now();
const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files], { stdio: "inherit", cwd: root });
process.stderr.write(`npm test: ${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(run.status ?? 1);
