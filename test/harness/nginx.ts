// nginx around mxproxy's OUT/nginx/*.conf: a wrapper nginx.conf in WORK/nginx/ that mirrors
// Debian's stock http {} block (the rendered server blocks will live inside that in production)
// but keeps pid, logs and every temp path inside the work folder.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { launch, type Running } from "./launch.ts";
import { check, openUp, requireBinary } from "./proc.ts";

const q = (s: string) => JSON.stringify(s); // nginx accepts "…" with \" and \\ escapes

function prepare(outDir: string, workDir: string): { bin: string; prefix: string; conf: string; errorLog: string } {
  const bin = requireBinary("nginx");
  // -p wants a trailing slash; relative paths inside the config resolve against it.
  const prefix = resolve(workDir, "nginx") + "/";
  mkdirSync(prefix, { recursive: true });
  // Workers run as nobody: the work and out trees must be traversable/readable by them. The
  // *_temp_path folders need no care: the nginx master creates them and chowns them to nobody.
  openUp(workDir);
  openUp(outDir);
  const errorLog = join(prefix, "error.log");
  const conf = join(prefix, "nginx.conf");
  const lines = [
    "# Written by test/harness/nginx.ts. Mirrors Debian 12 /etc/nginx/nginx.conf, paths moved here.",
    `pid ${q(join(prefix, "nginx.pid"))};`,
    `error_log ${q(errorLog)} warn;`,
    "worker_processes 2;",
    "events { worker_connections 768; }",
    "http {",
    "    sendfile on;",
    "    tcp_nopush on;",
    "    types_hash_max_size 2048;",
    // what the rendered header asks for when a name is long (Debian's default bucket is 64)
    "    server_names_hash_bucket_size 512;",
    // absolute: a relative "include mime.types" resolves against the config's folder, not -p
    "    include /etc/nginx/mime.types;",
    "    default_type application/octet-stream;",
    "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;",
    "    ssl_prefer_server_ciphers on;",
    `    access_log ${q(join(prefix, "access.log"))};`,
    "    gzip on;",
    `    client_body_temp_path ${q(join(prefix, "client_body"))};`,
    `    proxy_temp_path ${q(join(prefix, "proxy"))};`,
    `    fastcgi_temp_path ${q(join(prefix, "fastcgi"))};`,
    `    uwsgi_temp_path ${q(join(prefix, "uwsgi"))};`,
    `    scgi_temp_path ${q(join(prefix, "scgi"))};`,
    `    include ${q(join(resolve(outDir), "nginx", "*.conf"))};`,
    "}",
    "",
  ];
  writeFileSync(conf, lines.join("\n"));
  return { bin, prefix, conf, errorLog };
}

/** `nginx -t` on OUT/nginx/*.conf inside the wrapper; throws with nginx's output on failure. */
export async function nginxCheck(outDir: string, workDir: string): Promise<string> {
  const { bin, prefix, conf } = prepare(outDir, workDir);
  // -e: errors before error_log is parsed go to stderr (default would be Debian's /var/log path).
  return check("nginx", bin, ["-t", "-q", "-e", "stderr", "-p", prefix, "-c", conf]);
}

export async function startNginx(
  outDir: string,
  opts: { workDir: string; ports: number[]; startTimeoutMs?: number },
): Promise<Running> {
  await nginxCheck(outDir, opts.workDir);
  const { bin, prefix, conf, errorLog } = prepare(outDir, opts.workDir);
  // "daemon off" only via -g: the same directive in the file would be a "duplicate" error.
  return launch({
    name: "nginx",
    cmd: bin,
    args: ["-e", "stderr", "-p", prefix, "-c", conf, "-g", "daemon off;"],
    ports: opts.ports,
    logFiles: [errorLog],
    stopSignal: "SIGQUIT", // graceful: finish in-flight requests
    startTimeoutMs: opts.startTimeoutMs,
  });
}
