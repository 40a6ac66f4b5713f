#!/usr/bin/env node
// The entry of dist/cli.js. The two invocations run on every commit (CI, pre-commit hooks) —
// `render SITE --out DIR` and `validate SITE...`, with no other option — are dispatched here
// without loading yargs, which costs more start-up time than everything mxproxy itself does
// (BENCH.md). Anything else (other commands or options, --help, mistakes) goes to cli.ts,
// loaded on demand; so do these two with MXPROXY_FULL_CLI=1 (the tests compare both paths).
// Output, messages and exit codes are those of cli.ts (cli-fast-run.ts): keep them in step.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import type { FastCommand } from "./cli-fast-run.js";

/** Set by scripts/build.mjs: the CommonJS bundle of cli-fast-run.ts, beside its V8 code cache. */
declare const MXPROXY_FAST_BUNDLE: string | undefined;

const fast = process.env.MXPROXY_FULL_CLI ? undefined : simple(process.argv.slice(2));
if (!fast) await import("./cli.js");
else if (typeof MXPROXY_FAST_BUNDLE === "string") await cached(MXPROXY_FAST_BUNDLE).runFast(fast);
else await (await import("./cli-fast-run.js")).runFast(fast);

// --- internal ---

/** simple reads an argument list that yargs would read only one way, else undefined. */
function simple(args: string[]): FastCommand | undefined {
  const [command, ...rest] = args;
  if (!rest.every(plain)) return undefined;
  if (command === "validate" && rest.length > 0 && rest.every((a) => !a.startsWith("-"))) return { name: "validate", sites: rest };
  if (command !== "render") return undefined;
  let site: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--out" || a === "-o") {
      if (out !== undefined || i + 1 >= rest.length || rest[i + 1]!.startsWith("-")) return undefined;
      out = rest[++i];
    } else if (a.startsWith("--out=")) {
      if (out !== undefined || a.length === "--out=".length) return undefined;
      out = a.slice("--out=".length);
    } else if (!a.startsWith("-") && site === undefined) site = a;
    else return undefined;
  }
  return site === undefined || out === undefined ? undefined : { name: "render", site, out };
}

/** plain is an argument yargs takes verbatim: not "-" (stdin), "--", empty, or number-like. */
function plain(a: string): boolean {
  return a !== "" && a !== "-" && a !== "--" && !/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i.test(a) && !/^0x[0-9a-f]+$/i.test(a);
}

/**
 * cached loads a CommonJS bundle next to this file with the V8 code cache the build made for it
 * (FILE.cache). V8 refuses a cache made by another Node version, for another bundle or with
 * other V8 flags; the bundle is then compiled as usual.
 */
function cached(name: string): typeof import("./cli-fast-run.js") {
  const file = fileURLToPath(new URL(name, import.meta.url));
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`, { filename: file, cachedData });
  const module = { exports: {} as typeof import("./cli-fast-run.js") };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  // scripts/build.mjs makes the cache by running a few commands with this set.
  const make = process.env.MXPROXY_MAKE_CODE_CACHE;
  if (make) process.once("exit", () => writeFileSync(make, script.createCachedData()));
  return module.exports;
}
