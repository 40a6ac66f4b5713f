// Preloaded (node -r) by bench/run.mjs where /usr/bin/time is missing: writes the process's peak
// resident set size in KB to $MXPROXY_BENCH_RSS when it exits.
process.on("exit", () => require("node:fs").writeFileSync(process.env.MXPROXY_BENCH_RSS, String(process.resourceUsage().maxRSS)));
