#!/usr/bin/env node
// Makes sure the real servers the conformance tests run (nginx, Apache httpd, Caddy) and openssl
// (test certificates) are installed. Tests never skip for a missing server, so this either
// succeeds, installs them (root + apt), or fails loudly saying what to install.
// Plain Node, no dependencies; only file-system checks on the happy path so it stays fast.
//   node scripts/setup-servers.mjs             check, install what is missing when root
//   node scripts/setup-servers.mjs --check     check only, never install
import { existsSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { findBinary } from "./find-binary.mjs";

const BINARIES = ["nginx", "apache2", "caddy", "openssl"];
const PACKAGES = ["nginx", "apache2", "caddy", "openssl", "libssl3"];
const APT_INSTALL = `apt-get install -y --no-install-recommends ${PACKAGES.join(" ")}`;
const POLICY = "/usr/sbin/policy-rc.d";

const find = findBinary;

const missing = () => BINARIES.filter((b) => !find(b));

function fail(why) {
  const bar = "=".repeat(78);
  process.stderr.write(
    [
      bar,
      `setup-servers: ${why}`,
      `The conformance tests run the real servers and do not skip without them.`,
      `Missing: ${missing().join(", ") || "(none now, but the install step failed)"}`,
      `Install them (Debian/Ubuntu) as root:`,
      `  [ -e ${POLICY} ] || printf '#!/bin/sh\\nexit 101\\n' > ${POLICY} && chmod 755 ${POLICY}`,
      `      (no init system here: stops the packages from starting services on :80)`,
      `  apt-get update && DEBIAN_FRONTEND=noninteractive ${APT_INSTALL}`,
      `then run: node scripts/setup-servers.mjs`,
      bar,
      "",
    ].join("\n"),
  );
  process.exit(1);
}

function sh(cmd, args) {
  process.stderr.write(`setup-servers: $ ${cmd} ${args.join(" ")}\n`);
  // Output goes to stderr so stdout keeps the single status line.
  const r = spawnSync(cmd, args, {
    stdio: ["ignore", 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${cmd} ${args.join(" ")}\` exited with ${r.status ?? r.signal}`);
}

const report = () => console.log(`setup-servers: ok: ${BINARIES.map((b) => `${b}=${find(b)}`).join(" ")}`);

if (missing().length === 0) {
  report();
  process.exit(0);
}
if (process.argv.includes("--check")) fail(`missing ${missing().join(", ")} (--check: not installing)`);
if (process.getuid?.() !== 0) fail(`missing ${missing().join(", ")} and not running as root, so not installing`);
if (!find("apt-get")) fail(`missing ${missing().join(", ")} and apt-get is not available`);

process.stderr.write(`setup-servers: missing ${missing().join(", ")}; installing with apt-get\n`);
if (!existsSync(POLICY)) {
  // Without an init system the packages' postinst would try to start nginx/apache2 on :80.
  writeFileSync(POLICY, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  process.stderr.write(`setup-servers: created ${POLICY} (exit 101: do not start services)\n`);
}
sh("apt-get", ["update"]);
sh("apt-get", APT_INSTALL.split(" ").slice(1));
if (missing().length > 0) {
  fail(
    `apt-get succeeded but ${missing().join(", ")} still cannot be found (binary deleted? try apt-get install --reinstall)`,
  );
}
report();
