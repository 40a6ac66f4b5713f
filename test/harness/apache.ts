// Apache httpd around mxproxy's OUT/apache/*.conf. The wrapper mirrors Debian 12's apache2.conf
// (same defaults, same <Directory /> deny, same LogFormats, Debian's default module set with the
// mods-available/*.conf a2enmod would enable) with every runtime path moved into WORK/apache/.
// Modules and Listen ports come from the rendered files' header lines, exactly as a user would
// read them: that keeps the headers honest.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { launch, type Running } from "./launch.ts";
import { check, openUp, requireBinary } from "./proc.ts";

const MODS = "/etc/apache2/mods-available";
// What Debian 12 enables out of the box (/etc/apache2/mods-enabled after installing apache2).
export const DEBIAN_DEFAULT_MODULES = [
  "access_compat",
  "alias",
  "auth_basic",
  "authn_core",
  "authn_file",
  "authz_core",
  "authz_host",
  "authz_user",
  "autoindex",
  "deflate",
  "dir",
  "env",
  "filter",
  "mime",
  "mpm_event",
  "negotiation",
  "reqtimeout",
  "setenvif",
  "status",
];

const q = (s: string) => `"${s.replace(/["\\]/g, "\\$&")}"`;

export interface ApacheHeaders {
  modules: string[];
  ports: number[];
}

/** Union of the "# Apache modules needed…: a b" and "# Ports…: 443 80" header lines of every file. */
export function readApacheHeaders(outDir: string): ApacheHeaders {
  const dir = join(resolve(outDir), "apache");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".conf"))
        .sort()
    : [];
  if (files.length === 0) throw new Error(`no *.conf files in ${dir}`);
  const modules = new Set<string>();
  const ports = new Set<number>();
  let sawPorts = false;
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    for (const m of text.matchAll(/^# Apache modules needed[^:\n]*: (.+)$/gm)) {
      for (const w of m[1]!.trim().split(/\s+/)) if (w !== "none") modules.add(w.replace(/^mod_/, ""));
    }
    for (const m of text.matchAll(/^# Ports[^:\n]*: ([0-9 ]+)$/gm)) {
      sawPorts = true;
      for (const w of m[1]!.trim().split(/\s+/)) if (w) ports.add(Number(w));
    }
  }
  if (!sawPorts) {
    throw new Error(`no "# Ports …: N N" header line in ${dir}/*.conf: the harness takes Listen ports from it`);
  }
  return { modules: [...modules].sort(), ports: [...ports].sort((a, b) => a - b) };
}

/** Close `wanted` over the "# Depends:" lines of mods-available/*.load, as a2enmod does. */
function withDependencies(wanted: string[]): string[] {
  const all = new Set<string>();
  const visit = (m: string) => {
    if (all.has(m)) return;
    const load = join(MODS, `${m}.load`);
    if (!existsSync(load)) {
      throw new Error(`Apache module "${m}" has no ${load} (listed in a rendered header or a Depends: line)`);
    }
    all.add(m);
    const dep = /^# Depends: (.+)$/m.exec(readFileSync(load, "utf8"));
    for (const d of dep?.[1]!.trim().split(/\s+/) ?? []) visit(d);
  };
  wanted.forEach(visit);
  return [...all].sort(); // mods-enabled/ is read in glob (alphabetical) order
}

function prepare(outDir: string, workDir: string) {
  const bin = requireBinary("apache2");
  const root = resolve(workDir, "apache"); // -d must be absolute
  const run = join(root, "run");
  mkdirSync(run, { recursive: true });
  openUp(workDir);
  openUp(outDir);
  const { modules, ports } = readApacheHeaders(outDir);
  const mods = withDependencies([...DEBIAN_DEFAULT_MODULES, ...modules]);
  const errorLog = join(root, "error.log");
  const conf = join(root, "apache2.conf");
  const lines = [
    "# Written by test/harness/apache.ts. Mirrors Debian 12 /etc/apache2/apache2.conf, paths moved here.",
    // the ${APACHE_*} variables Debian's mods-available/*.conf use (normally from envvars)
    `Define APACHE_RUN_DIR ${q(run)}`,
    `Define APACHE_LOCK_DIR ${q(run)}`,
    `Define APACHE_LOG_DIR ${q(root)}`,
    `DefaultRuntimeDir ${q(run)}`,
    `PidFile ${q(join(root, "apache2.pid"))}`,
    `Mutex file:${run} default`,
    "Timeout 300",
    "KeepAlive On",
    "MaxKeepAliveRequests 100",
    "KeepAliveTimeout 5",
    "User nobody",
    "Group nogroup",
    "HostnameLookups Off",
    `ErrorLog ${q(errorLog)}`,
    "LogLevel warn",
    "ServerName localhost",
    ...mods.map((m) => `Include ${MODS}/${m}.load`),
    ...mods.filter((m) => existsSync(join(MODS, `${m}.conf`))).map((m) => `Include ${MODS}/${m}.conf`),
    // ports.conf's job; loopback only so tests never expose anything
    ...ports.map((p) => `Listen 127.0.0.1:${p}`),
    "<Directory />\n\tOptions FollowSymLinks\n\tAllowOverride None\n\tRequire all denied\n</Directory>",
    "<Directory /usr/share>\n\tAllowOverride None\n\tRequire all granted\n</Directory>",
    "<Directory /var/www/>\n\tOptions Indexes FollowSymLinks\n\tAllowOverride None\n\tRequire all granted\n</Directory>",
    "AccessFileName .htaccess",
    '<FilesMatch "^\\.ht">\n\tRequire all denied\n</FilesMatch>',
    'LogFormat "%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" vhost_combined',
    'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
    'LogFormat "%h %l %u %t \\"%r\\" %>s %O" common',
    // conf-enabled/security.conf and other-vhosts-access-log.conf
    "ServerTokens OS",
    "ServerSignature On",
    "TraceEnable Off",
    `CustomLog ${q(join(root, "other_vhosts_access.log"))} vhost_combined`,
    `IncludeOptional ${q(join(resolve(outDir), "apache", "*.conf"))}`,
    "",
  ];
  writeFileSync(conf, lines.join("\n"));
  return { bin, root, conf, errorLog, ports };
}

/** `apache2 -t` on OUT/apache/*.conf inside the wrapper; throws with Apache's output on failure. */
export async function apacheCheck(outDir: string, workDir: string): Promise<string> {
  const { bin, root, conf } = prepare(outDir, workDir);
  return check("apache2", bin, ["-t", "-d", root, "-f", conf], { ...process.env, LANG: "C" });
}

export async function startApache(
  outDir: string,
  opts: { workDir: string; ports: number[]; startTimeoutMs?: number },
): Promise<Running> {
  await apacheCheck(outDir, opts.workDir);
  const { bin, root, conf, errorLog, ports } = prepare(outDir, opts.workDir);
  const unlisted = opts.ports.filter((p) => !ports.includes(p));
  if (unlisted.length > 0) {
    throw new Error(
      `port(s) ${unlisted.join(", ")} missing from the "# Ports" header of ${outDir}/apache/*.conf (it lists ${ports.join(" ")})`,
    );
  }
  // Directly, by PID: apache2ctl would read /etc/apache2/envvars and create /run/apache2.
  return launch({
    name: "apache2",
    cmd: bin,
    args: ["-d", root, "-f", conf, "-DFOREGROUND"],
    env: { ...process.env, LANG: "C" },
    ports: opts.ports,
    logFiles: [errorLog],
    stopSignal: "SIGTERM",
    startTimeoutMs: opts.startTimeoutMs,
  });
}
