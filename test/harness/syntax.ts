// The real parsers on a rendered file set, fast and reusable: `nginx -t`, `apache2 -t` and
// `caddy validate` run in parallel on the files written to a temp folder, and the Traefik checker
// runs in-process. With `structure: true` it also returns what each parser made of the files, for
// "no extra directive, exactly this value" comparisons:
//  - nginx: the directive tree, tokenised the way ngx_conf_read_token does it (nginx has no
//    dump of its parsed tree; `nginx -T` only prints the files), escapes already resolved;
//  - Apache: the directives Apache itself read (mod_info's `-t -D DUMP_CONFIG`: line splitting,
//    continuation lines and sections are Apache's), arguments split like ap_getword_conf;
//  - Caddy: the JSON `caddy adapt` produces (Caddy's own lexer and parser);
//  - Traefik: the YAML as the JS `yaml` package parses it, plus a scan for the characters Go's
//    yaml.v3 (what Traefik uses) reads as line breaks and YAML 1.2 does not (NEL, LS, PS).
//
// ACME sites reference certbot's /etc/letsencrypt/live/NAME/ files, which nginx and Apache load
// at `-t`. The check writes a copy of the nginx/Apache files with that prefix moved into the temp
// folder and puts a test certificate there; nothing else in the files is changed. Files named by
// `tls: {cert, key}` must exist (the caller creates them): a parser reading a different path
// than the one intended then fails, which is part of the proof.
import { spawn } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeTestPki, type TestPki } from "./certs.ts";
import { checkTraefik } from "./traefik-check.ts";
import { DEBIAN_DEFAULT_MODULES } from "./apache.ts";

export type Checked = "nginx" | "apache" | "caddy" | "traefik";

/** A rendered file, as compileSite returns it (path relative to the out folder). */
export interface FileLike {
  path: string;
  contents: string;
}

export interface SyntaxOptions {
  /** Also return each parser's view of the files (slower: adds `caddy adapt` and an Apache dump). */
  structure?: boolean;
  /** Keep the temp folder (its path is in the result) instead of deleting it. */
  keep?: boolean;
  /** Check only these backends (default: every backend that has files). */
  only?: Checked[];
}

export interface SyntaxResult {
  /** Backends whose files were present and checked. */
  checked: Checked[];
  /** Failure output per backend; a backend absent from here passed. */
  errors: Partial<Record<Checked, string>>;
  /** The temp folder (deleted unless `keep`). */
  dir: string;
  nginx?: Map<string, NginxDirective[]>;
  apache?: Map<string, ApacheDirective[]>;
  caddy?: unknown;
  traefik?: Map<string, unknown>;
}

/** checkSyntax writes `files` to a temp folder and runs every backend's real parser on them. */
export async function checkSyntax(files: FileLike[], opts: SyntaxOptions = {}): Promise<SyntaxResult> {
  const dir = mkdtempSync(join(tmpdir(), "mxproxy-syntax-"));
  const out = join(dir, "out");
  const le = join(dir, "letsencrypt", "live");
  const pki = testPki();
  const acmeNames = new Set<string>();
  for (const f of files) {
    let text = f.contents;
    if (f.path.startsWith("nginx/") || f.path.startsWith("apache/")) {
      text = text.replaceAll(LE_PREFIX, le + "/");
      for (const m of f.contents.matchAll(/\/etc\/letsencrypt\/live\/([^/\s"';]+)\//g)) acmeNames.add(m[1]!);
    }
    const target = join(out, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  for (const name of acmeNames) {
    mkdirSync(join(le, name), { recursive: true });
    // hard links: a batch can name hundreds of sites
    linkSync(pki.chainFile, join(le, name, "fullchain.pem"));
    linkSync(pki.keyFile, join(le, name, "privkey.pem"));
  }
  const has = (prefix: string) =>
    (!opts.only || opts.only.includes(prefix.slice(0, -1) as Checked)) && files.some((f) => f.path.startsWith(prefix));
  const result: SyntaxResult = { checked: [], errors: {}, dir };
  const jobs: Promise<void>[] = [];
  if (has("nginx/")) {
    result.checked.push("nginx");
    const texts = files.filter((f) => f.path.startsWith("nginx/")).map((f) => f.contents);
    jobs.push(nginxTest(dir, texts).then((e) => void (e && (result.errors.nginx = e))));
    if (opts.structure) {
      result.nginx = new Map(
        files
          .filter((f) => f.path.startsWith("nginx/"))
          .map((f) => [f.path, safeParse(() => parseNginx(f.contents), result, "nginx")]),
      );
    }
  }
  if (has("apache/")) {
    result.checked.push("apache");
    // With structure, one run does both: mod_info's dump, then the syntax verdict.
    jobs.push(
      apacheTest(dir, !!opts.structure).then(({ error, dump }) => {
        if (error) result.errors.apache = error;
        if (opts.structure) result.apache = dump ?? new Map();
      }),
    );
  }
  if (has("caddy/")) {
    result.checked.push("caddy");
    jobs.push(
      caddyAdapt(dir, !!opts.structure).then(({ error, json }) => {
        if (error) result.errors.caddy = error;
        if (opts.structure) result.caddy = json ?? { adaptError: error };
      }),
    );
  }
  const dyn = files.find((f) => f.path === "traefik/mxproxy.yml");
  const sta = files.find((f) => f.path === "traefik/static/traefik.yml");
  if (dyn && sta && (!opts.only || opts.only.includes("traefik"))) {
    result.checked.push("traefik");
    const problems = [...checkTraefik(dyn.contents, sta.contents), ...goYamlBreaks(dyn), ...goYamlBreaks(sta)];
    if (problems.length > 0) result.errors.traefik = problems.join("\n");
    if (opts.structure) {
      const { parse } = await import("yaml");
      result.traefik = new Map([dyn, sta].map((f) => [f.path, parse(f.contents)]));
    }
  }
  await Promise.all(jobs);
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  return result;
}

/** formatErrors joins a result's failures for an assertion message. */
export function formatErrors(r: SyntaxResult): string {
  return Object.entries(r.errors)
    .map(([b, e]) => `--- ${b} ---\n${e}`)
    .join("\n");
}

// --- nginx ---

/** One nginx directive: name, arguments with escapes resolved, and its block if it has one. */
export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
  line: number;
}

/** nginx's config buffer: a single token this long or longer is "too long parameter". */
export const NGINX_TOKEN_MAX = 4096;

/**
 * parseNginx tokenises an nginx config as ngx_conf_read_token (nginx 1.22) does: `#` starts a
 * comment only at the start of a token; quotes end a token and must be followed by a space, `;`,
 * `{` or `)`; `\` escapes the next character; `${` does not end a token. Arguments are unescaped
 * as nginx does (\" \' \\ lose the backslash, \t \r \n become control characters, other
 * backslashes stay). Throws on what nginx reports as a syntax error.
 */
export function parseNginx(text: string): NginxDirective[] {
  const bytes = Buffer.from(text, "utf8");
  let pos = 0;
  let line = 1;
  const root: NginxDirective[] = [];
  const stack: NginxDirective[][] = [root];
  let args: string[] = [];
  let argsLine = 1;
  const fail = (msg: string): never => {
    throw new Error(`nginx syntax (as parsed by test/harness/syntax.ts): ${msg} on line ${line}`);
  };
  const finish = (kind: ";" | "{") => {
    if (args.length === 0) fail(`unexpected "${kind}"`);
    const d: NginxDirective = { name: args[0]!, args: args.slice(1), line: argsLine };
    stack[stack.length - 1]!.push(d);
    if (kind === "{") {
      d.block = [];
      stack.push(d.block);
    }
    args = [];
  };
  for (;;) {
    // Read one token (or a structural character).
    let ch = -1;
    let start = -1;
    let sQuoted = false;
    let dQuoted = false;
    let quoted = false;
    let variable = false;
    let comment = false;
    let word: string | undefined;
    let ended: ";" | "{" | "}" | "eof" | undefined;
    while (word === undefined && ended === undefined) {
      if (pos >= bytes.length) {
        if (start >= 0 && !comment) fail('unexpected end of file, expecting ";" or "}"');
        ended = "eof";
        break;
      }
      ch = bytes[pos++]!;
      if (ch === 0x0a) {
        line++;
        if (comment) {
          comment = false;
          continue;
        }
      }
      if (comment) continue;
      if (quoted) {
        quoted = false;
        continue;
      }
      if (start < 0) {
        if (ch === 0x20 || ch === 0x09 || ch === 0x0d || ch === 0x0a) continue;
        if (ch === 0x3b || ch === 0x7b) {
          ended = ch === 0x3b ? ";" : "{";
          break;
        }
        if (ch === 0x7d) {
          if (args.length !== 0) fail('unexpected "}"');
          ended = "}";
          break;
        }
        if (ch === 0x23) {
          comment = true;
          continue;
        }
        start = pos - 1;
        if (args.length === 0) argsLine = line;
        if (ch === 0x5c) quoted = true;
        else if (ch === 0x22) {
          start++;
          dQuoted = true;
        } else if (ch === 0x27) {
          start++;
          sQuoted = true;
        } else if (ch === 0x24) variable = true;
        continue;
      }
      if (ch === 0x7b && variable) continue;
      variable = false;
      if (ch === 0x5c) {
        quoted = true;
        continue;
      }
      if (ch === 0x24) {
        variable = true;
        continue;
      }
      let found = false;
      let needSpace = false;
      if (dQuoted) {
        if (ch === 0x22) ((dQuoted = false), (needSpace = found = true));
      } else if (sQuoted) {
        if (ch === 0x27) ((sQuoted = false), (needSpace = found = true));
      } else if (ch === 0x20 || ch === 0x09 || ch === 0x0d || ch === 0x0a || ch === 0x3b || ch === 0x7b) {
        found = true;
      }
      if (!found) continue;
      if (pos - 1 - start >= NGINX_TOKEN_MAX) fail(`too long parameter (${pos - 1 - start} bytes)`);
      word = unescapeNginx(bytes.subarray(start, pos - 1));
      args.push(word);
      if (needSpace) {
        // After a closing quote: whitespace, ";", "{" or ")" must follow.
        const next = bytes[pos];
        if (next === undefined) fail("unexpected end of file");
        if (next === 0x3b || next === 0x7b) {
          pos++;
          ended = next === 0x3b ? ";" : "{";
        } else if (next === 0x0a) {
          // the line count is bumped when the newline is read by the next token
        } else if (next !== 0x20 && next !== 0x09 && next !== 0x0d && next !== 0x29)
          fail(`unexpected "${String.fromCharCode(next ?? 0)}"`);
      } else if (ch === 0x3b || ch === 0x7b) {
        ended = ch === 0x3b ? ";" : "{";
      } else if (ch === 0x0a) {
        // counted above
      }
    }
    if (ended === "eof") break;
    if (ended === ";" || ended === "{") finish(ended);
    else if (ended === "}") {
      if (stack.length === 1) fail('unexpected "}"');
      stack.pop();
    }
  }
  if (stack.length !== 1) fail('unexpected end of file, expecting "}"');
  return root;
}

function unescapeNginx(src: Buffer): string {
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0x5c) {
      const n = src[i + 1];
      if (n === 0x22 || n === 0x27 || n === 0x5c) {
        out.push(n);
        i++;
        continue;
      }
      if (n === 0x74 || n === 0x72 || n === 0x6e) {
        out.push(n === 0x74 ? 0x09 : n === 0x72 ? 0x0d : 0x0a);
        i++;
        continue;
      }
    }
    out.push(src[i]!);
  }
  return Buffer.from(out).toString("utf8");
}

/**
 * The http {} directives the rendered headers ask for ("# … http {} needs
 * server_names_hash_bucket_size 128;"): the wrapper applies what a user would, reading the same
 * lines, so a header that forgets to ask shows up as a failing `nginx -t`.
 */
export function nginxHttpRequirements(texts: string[]): string[] {
  let bucket = 0;
  for (const t of texts) for (const m of t.matchAll(/^#.*\bserver_names_hash_bucket_size (\d+);/gm)) bucket = Math.max(bucket, Number(m[1]));
  return bucket > 0 ? [`server_names_hash_bucket_size ${bucket};`] : [];
}

async function nginxTest(dir: string, texts: string[]): Promise<string | undefined> {
  const prefix = join(dir, "nginx") + "/";
  mkdirSync(prefix, { recursive: true });
  const q = (s: string) => JSON.stringify(s);
  const conf = [
    `pid ${q(prefix + "nginx.pid")};`,
    `error_log ${q(prefix + "error.log")};`,
    "events {}",
    "http {",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${q(prefix + t)};`),
    `    access_log ${q(prefix + "access.log")};`,
    ...nginxHttpRequirements(texts).map((d) => `    ${d}`),
    `    include ${q(join(dir, "out", "nginx", "*.conf"))};`,
    "}",
    "",
  ].join("\n");
  writeFileSync(prefix + "nginx.conf", conf);
  const r = await run("nginx", ["-t", "-q", "-e", "stderr", "-p", prefix, "-c", prefix + "nginx.conf"]);
  return r.code === 0 && !/\[emerg\]/.test(r.output) ? undefined : `nginx -t exit ${r.code}:\n${r.output}`;
}

// --- Apache ---

/** One directive as Apache read it (section tags included as `<Name` / `</Name>`). */
export interface ApacheDirective {
  name: string;
  /** The raw argument text Apache stored (after its own line joining). */
  raw: string;
  /** Arguments split and unquoted as ap_getword_conf does. */
  args: string[];
  /** Nesting depth inside sections. */
  depth: number;
  file: string;
}

/** Modules the wrapper loads: Debian's defaults plus the set DESIGN.md allows the output to use. */
export const APACHE_MODULES = [
  "mpm_event",
  ...DEBIAN_DEFAULT_MODULES.filter((m) => m !== "mpm_event"),
  ...["proxy", "proxy_http", "proxy_wstunnel", "headers", "ssl", "rewrite", "socache_shmcb", "http2", "remoteip"],
];

async function apacheTest(
  dir: string,
  dump: boolean,
): Promise<{ error?: string; dump?: Map<string, ApacheDirective[]> }> {
  const root = join(dir, dump ? "apache-dump" : "apache");
  mkdirSync(root, { recursive: true });
  const mods = dump ? [...APACHE_MODULES, "info"] : APACHE_MODULES;
  const conf = [
    ...mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`),
    "ServerName localhost",
    `PidFile ${root}/apache.pid`,
    `ErrorLog ${root}/error.log`,
    `Mutex file:${root} default`,
    `DefaultRuntimeDir ${root}`,
    "Listen 127.0.0.1:1",
    `IncludeOptional ${join(dir, "out", "apache")}/*.conf`,
    "",
  ].join("\n");
  writeFileSync(join(root, "httpd.conf"), conf);
  const args = ["-t", "-d", root, "-f", join(root, "httpd.conf"), ...(dump ? ["-D", "DUMP_CONFIG"] : [])];
  const r = await run("apache2", args, { LANG: "C" });
  const error = r.code === 0 && /Syntax OK/.test(r.output) ? undefined : `apache2 -t exit ${r.code}:\n${r.stderr}`;
  if (!dump) return { error };
  // Report certbot paths as the files say them, not as moved into the temp folder.
  return { error, dump: parseApacheDump(r.stdout.replaceAll(join(dir, "letsencrypt", "live") + "/", LE_PREFIX), join(dir, "out", "apache")) };
}

/** parseApacheDump reads mod_info's DUMP_CONFIG output, keeping the files under `under`. */
export function parseApacheDump(text: string, under: string): Map<string, ApacheDirective[]> {
  const out = new Map<string, ApacheDirective[]>();
  let file = "";
  for (const rawLine of text.split("\n")) {
    const m = /^# In file: (.*)$/.exec(rawLine);
    if (m) {
      file = m[1]!;
      continue;
    }
    const line = rawLine.replace(/^ +/, "");
    const depth = (rawLine.length - line.length) / 2;
    if (line === "" || line.startsWith("#") || !file.startsWith(under + "/")) continue;
    const rel = "apache/" + file.slice(under.length + 1);
    const list = out.get(rel) ?? [];
    out.set(rel, list);
    const close = /^<\/([^>]+)>$/.exec(line);
    if (close) {
      list.push({ name: `</${close[1]}>`, raw: "", args: [], depth, file: rel });
      continue;
    }
    const sp = line.search(/[ \t]/);
    let name = sp < 0 ? line : line.slice(0, sp);
    let raw = sp < 0 ? "" : line.slice(sp).replace(/^[ \t]+/, "");
    if (name.startsWith("<")) raw = raw.replace(/>$/, "");
    if (name.startsWith("<") && name.endsWith(">")) name = name.slice(0, -1);
    list.push({ name, raw, args: getwordConfAll(raw), depth, file: rel });
  }
  return out;
}

/** getwordConfAll splits an argument string as Apache's ap_getword_conf does, word by word. */
export function getwordConfAll(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const space = (c: string | undefined) => c !== undefined && /[ \t\n\r\v\f]/.test(c);
  for (;;) {
    while (space(line[i])) i++;
    if (i >= line.length) return words;
    const quote = line[i];
    let word = "";
    if (quote === '"' || quote === "'") {
      i++;
      while (i < line.length && line[i] !== quote) {
        if (line[i] === "\\" && (line[i + 1] === quote || line[i + 1] === "\\")) {
          word += line[i + 1];
          i += 2;
        } else word += line[i++];
      }
      if (line[i] === quote) i++;
    } else {
      while (i < line.length && !space(line[i])) {
        if (line[i] === "\\" && line[i + 1] === "\\") {
          word += "\\";
          i += 2;
        } else word += line[i++];
      }
    }
    words.push(word);
  }
}

/**
 * apExprString decodes an ap_expr string (ErrorDocument and `expr=` values, after
 * ap_getword_conf): \n \r \t \b \f and octal \NNN are control characters, a backslash before
 * any other character stands for that character. Throws where ap_expr would interpolate
 * (`%{…}`, `$N`), since then the text is not a literal.
 */
export function apExprString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      const n = s[i + 1];
      if (n === undefined) throw new Error("ap_expr: trailing backslash");
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1));
      if (oct) {
        out += String.fromCharCode(parseInt(oct[0], 8));
        i += oct[0].length;
        continue;
      }
      out += { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" }[n] ?? n;
      i++;
      continue;
    }
    if (c === "%" && s[i + 1] === "{") throw new Error(`ap_expr: variable at ${JSON.stringify(s.slice(i, i + 20))}`);
    if (c === "$" && /[0-9]/.test(s[i + 1] ?? ""))
      throw new Error(`ap_expr: back-reference at ${JSON.stringify(s.slice(i, i + 5))}`);
    out += c;
  }
  return out;
}

// --- Caddy ---

function caddyEnv(dir: string): NodeJS.ProcessEnv {
  const home = join(dir, "caddy-home");
  mkdirSync(join(home, "data"), { recursive: true });
  mkdirSync(join(home, "config"), { recursive: true });
  return { HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") };
}

/** `caddy adapt --validate`: Caddy's own parse, then the same provisioning `caddy validate` does. */
async function caddyAdapt(dir: string, json: boolean): Promise<{ error?: string; json?: unknown }> {
  const r = await run("caddy", ["adapt", "--config", join(dir, "out", "caddy", "Caddyfile"), "--adapter", "caddyfile", "--validate"], caddyEnv(dir));
  if (r.code !== 0) return { error: `caddy adapt --validate exit ${r.code}:\n${r.stderr.replace(/^\{"level":"(info|warn)".*\n/gm, "")}` };
  return json ? { json: JSON.parse(r.stdout) } : {};
}

// --- Traefik ---

/**
 * Traefik reads its files with gopkg.in/yaml.v3, whose scanner (a libyaml port) treats NEL
 * (U+0085), LS (U+2028) and PS (U+2029) as line breaks, also in comments and quoted scalars;
 * YAML 1.2 parsers (the `yaml` package, checkTraefik) do not. A raw one in the output can
 * therefore end a comment or fold a string for Traefik while every JS check passes.
 */
export function goYamlBreaks(f: FileLike): string[] {
  const out: string[] = [];
  f.contents.split("\n").forEach((l, i) => {
    const m = /[\u0085\u2028\u2029]/.exec(l);
    if (m)
      out.push(
        `${f.path}:${i + 1}:${m.index + 1}: raw U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}, a line break for Traefik's YAML parser (go-yaml): ${JSON.stringify(l.slice(0, 120))}`,
      );
  });
  return out;
}

// --- internal ---

const LE_PREFIX = "/etc/letsencrypt/live/";

let pkiCache: TestPki | undefined;
/** One test certificate per process, shared by every check. */
export function testPki(): TestPki {
  if (pkiCache && existsSync(pkiCache.keyFile)) return pkiCache;
  const dir = mkdtempSync(join(tmpdir(), "mxproxy-syntax-pki-"));
  pkiCache = makeTestPki(dir, ["example.com"]);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return pkiCache;
}

function safeParse<T>(fn: () => T, result: SyntaxResult, backend: Checked): T {
  try {
    return fn();
  } catch (e) {
    result.errors[backend] = `${result.errors[backend] ?? ""}${(e as Error).message}\n`;
    return [] as unknown as T;
  }
}

interface RunResult {
  code: number | null;
  output: string;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr.on("data", (d: Buffer) => ((stderr += d), (output += d)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, stdout, stderr }));
  });
}
