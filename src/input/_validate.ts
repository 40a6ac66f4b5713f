// Stage 2b: the rules a JSON Schema cannot express — cross-site uniqueness, values that depend
// on each other; then each selected backend plug-in reports what it cannot render (checkFile,
// checkSite), so validation never imports a backend's escaping.
import { isIP } from "./_ip.js";
import type { BackendName, Diagnostic, LoadedSite, SiteFileInput, SiteInput } from "../types.js";
import type { Report } from "../backends/_backend.js";
import { diagnostic, show } from "./_diagnostics.js";
import { schemaDiagnostics } from "./_schema.js";
import { plugins } from "../backends/_registry.js";
import { asciiHost, mergeSite, parseSize, parseDuration, parseUpstream, MAX_UPLOAD_BYTES, MAX_TIMEOUT_SECONDS } from "./_values.js";

/** Result of validation: the typed input when there are no errors, and every problem found. */
export interface Validated {
  input?: SiteFileInput;
  diagnostics: Diagnostic[];
}

/** validateSite checks a loaded file against the schema, then the semantic rules. */
export function validateSite(loaded: LoadedSite, backends?: BackendName[]): Validated {
  if (loaded.diagnostics.length > 0) return { diagnostics: loaded.diagnostics };
  if (loaded.value === null || typeof loaded.value !== "object" || Array.isArray(loaded.value)) {
    return { diagnostics: [diagnostic(loaded, "", `the document is ${show(loaded.value)} (expected a mapping with version: 1 and sites:)`)] };
  }
  const schemaErrors = schemaDiagnostics(loaded);
  if (schemaErrors.length > 0) return { diagnostics: schemaErrors };
  const input = loaded.value as SiteFileInput;
  const diagnostics = semantic(loaded, input, backends);
  return diagnostics.some((d) => d.severity === "error") ? { diagnostics } : { input, diagnostics };
}

// --- internal ---

function semantic(loaded: LoadedSite, input: SiteFileInput, backends?: BackendName[]): Diagnostic[] {
  const selected = plugins(backends);
  const out: Diagnostic[] = [];
  const err = (path: string, message: string, prefer: "key" | "value" = "value") => out.push(diagnostic(loaded, path, message, prefer));
  // Where each name was first used: 2 × site index, plus 1 for a homeserver host.
  const names = new Map<string, number>();
  const claimPath = (n: number) => `sites[${n >> 1}].${n & 1 ? "homeserver.host" : "server_name"}`;
  const claim = (name: string, n: number) => {
    const previous = names.get(name);
    if (previous !== undefined) err(claimPath(n), `${show(name)} is already used at ${claimPath(previous)} (server names and homeserver hosts must be unique across sites)`);
    else names.set(name, n);
  };

  configStrings(input, [], err);
  for (const b of selected) b.checkFile?.(input, err);
  input.sites.forEach((raw, i) => {
    const at = `sites[${i}]`;
    const site = mergeSite(input.defaults, raw) as SiteInput;
    const serverName = hostname(site.server_name, at, "server_name", err);
    const host = hostname(site.homeserver?.host ?? "", at, "homeserver.host", err);
    if (serverName) claim(serverName, 2 * i);
    if (host && host !== serverName) claim(host, 2 * i + 1);

    const upstreamPath = raw.homeserver?.upstream !== undefined ? `${at}.homeserver.upstream` : "defaults.homeserver.upstream";
    const upstream = site.homeserver?.upstream;
    if (upstream === undefined) err(`${at}.homeserver`, `missing required key "upstream" (for example upstream: http://127.0.0.1:6167), here or in defaults.homeserver`);
    else {
      const parsed = parseUpstream(upstream);
      if (typeof parsed === "string") err(upstreamPath, `${show(upstream)} ${parsed}`);
      else if (parsed.kind === "unix" && Buffer.byteLength(parsed.path) > 107) err(upstreamPath, `${show(upstream)} names a socket path of ${Buffer.byteLength(parsed.path)} bytes (expected at most 107: the longest path a unix socket address holds)`);
    }
    const sizePath = raw.homeserver?.max_upload !== undefined ? `${at}.homeserver.max_upload` : "defaults.homeserver.max_upload";
    if (site.homeserver?.max_upload !== undefined && parseSize(site.homeserver.max_upload) > MAX_UPLOAD_BYTES) {
      err(sizePath, `${show(site.homeserver.max_upload)} is too large (expected at most 2G: Apache and nginx limits stop at 2 GiB)`);
    }
    const timePath = raw.homeserver?.timeout !== undefined ? `${at}.homeserver.timeout` : "defaults.homeserver.timeout";
    if (site.homeserver?.timeout !== undefined && parseDuration(site.homeserver.timeout) > MAX_TIMEOUT_SECONDS) {
      err(timePath, `${show(site.homeserver.timeout)} is too long (expected at most 24h)`);
    }
    checkPorts(site, at, err);
    checkServer(site, host, at, err);
    const source = (path: string) => (get(raw, path) !== undefined ? `${at}.${path}` : `defaults.${path}`);
    for (const b of selected) b.checkSite?.({ input, raw, site, at, source, err });
  });
  return out;
}

/** get reads a dotted path of an object (undefined when any step is missing). */
function get(value: unknown, path: string): unknown {
  let v = value;
  for (const k of path.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * configStrings checks every string that lands in a config (all but the well-known documents,
 * whose JSON escapes carry anything): well-formed Unicode, no invisible line breaks or controls
 * (U+0085, U+2028/9 end a line for Traefik's YAML reader), file names the file system accepts.
 * `keys` is the path to `value`, written out only for a message.
 */
function configStrings(value: unknown, keys: (string | number)[], err: Report): void {
  if (typeof value === "string") {
    // ASCII of at most 255 characters passes every check below.
    if (value.length <= 255 && ASCII.test(value)) return;
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) err(keyPath(keys), `${show(value)} is not valid Unicode (it holds a lone surrogate)`);
    else if (/[\u0080-\u009f\u2028\u2029\ufeff]/.test(value)) err(keyPath(keys), `${show(value)} holds an invisible control or line-break character (expected printable text)`);
    else if (/^(unix:)?\//.test(value) && value.split("/").some((part) => Buffer.byteLength(part) > 255)) err(keyPath(keys), `${show(value)} has a file name longer than 255 bytes (the file system's limit)`);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      configStrings(value[i], keys, err);
      keys.pop();
    }
    return;
  }
  // Skip X.well_known.client and X.well_known.support (not at the top level, where the schema refuses them).
  const inWellKnown = keys.length >= 2 && keys[keys.length - 1] === "well_known";
  for (const k of Object.keys(value)) {
    if (inWellKnown && (k === "client" || k === "support")) continue;
    keys.push(k);
    configStrings((value as Record<string, unknown>)[k], keys, err);
    keys.pop();
  }
}

const ASCII = /^[\x00-\x7f]*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** keyPath writes the path of a configStrings value: `sites[0].tls.cert`, `x["a.b"]`. */
function keyPath(keys: (string | number)[]): string {
  let path = "";
  for (const k of keys) path = typeof k === "number" ? `${path}[${k}]` : path === "" ? k : IDENTIFIER.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
  return path;
}

// Letters, digits and hyphens in dot-separated labels, none empty or starting or ending with "-".
const DNS_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
// In such a name, 64 label characters in a row are a label over DNS's 63.
const LONG_LABEL = /[a-z0-9-]{64}/;

/** hostname converts an IDN to its ASCII form and checks the DNS limits on the result. */
function hostname(name: string, at: string, field: string, err: Report): string | undefined {
  const ascii = asciiHost(name);
  // UTS #46 maps some characters to punctuation (U+2474 becomes "(1)"): the result must be a DNS name.
  if (!DNS_NAME.test(ascii)) {
    err(`${at}.${field}`, `${show(name)} becomes ${show(ascii)} as an ASCII hostname, which is not a DNS name (expected letters, digits and hyphens)`);
    return undefined;
  }
  if (ascii.length > 253 || LONG_LABEL.test(ascii) || isIP(ascii) !== 0) {
    err(`${at}.${field}`, `${show(name)} is not a valid DNS hostname (expected a name such as example.com; IP addresses are not accepted)`);
    return undefined;
  }
  return ascii;
}

function checkPorts(site: SiteInput, at: string, err: Report): void {
  const https = site.listen?.https ?? 443;
  const http = site.listen?.http === false ? null : site.listen?.http ?? 80;
  if (http === https) err(`${at}.listen.http`, `${http} is also listen.https (expected a different port, or false)`);
  const fed = site.federation?.port;
  if (fed !== undefined && http !== null && fed === http) err(`${at}.federation.port`, `${fed} is also listen.http, which only redirects (expected listen.https, 8448 or another free port)`);
}

function checkServer(site: SiteInput, host: string | undefined, at: string, err: Report): void {
  const server = site.well_known?.server;
  const fed = site.federation?.port;
  if (typeof server !== "string") return;
  const sep = server.lastIndexOf(":");
  const port = Number(server.slice(sep + 1));
  if (port < 1 || port > 65535) {
    err(`${at}.well_known.server`, `${show(server)} has port ${port} (expected 1 to 65535)`);
    return;
  }
  if (fed === undefined || !host) return;
  const serverHost = asciiHost(server.slice(0, sep));
  if (serverHost === host && port !== fed) {
    err(`${at}.well_known.server`, `${show(server)} points at port ${port} but federation.port is ${fed} (expected ${host}:${fed}, or drop one of the two)`);
  }
}
