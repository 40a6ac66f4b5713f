// Small value parsers shared by validation and planning, so both read values the same way.
import { domainToASCII } from "node:url";
import { isIP } from "./_ip.js";
import type { SiteInput, SiteSettingsInput, Upstream } from "../types.js";

/** Apache's LimitRequestBody and our Content-Length checks stop at 2 GiB. */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;
export const MAX_TIMEOUT_SECONDS = 24 * 3600;

/**
 * asciiHost is the ASCII form of a hostname (lowercased, IDNs in punycode), as domainToASCII.
 * Lowercase letter-digit-hyphen names without punycode labels, whose last label is no number
 * (the URL host parser reads those as IPv4), are their own ASCII form: they skip the URL parser.
 */
export function asciiHost(name: string): string {
  const lower = name.toLowerCase();
  return PLAIN_HOST.test(lower) && !lower.includes("xn--") ? lower : domainToASCII(lower);
}

/** parseSize reads `50M` (or a plain number of bytes) as bytes (K, M, G are 1024-based, as in nginx). */
export function parseSize(text: string | number): number {
  const m = /^([0-9]+)([KkMmGg]?)$/.exec(String(text));
  if (!m) return NaN;
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
}

/** parseDuration reads `600s`, `10m`, `1h` or `600` (string or number) as seconds. */
export function parseDuration(text: string | number): number {
  const m = /^([0-9]+)([smh]?)$/.exec(String(text));
  if (!m) return NaN;
  return Number(m[1]) * TIME_UNITS[m[2] as "" | "s" | "m" | "h"];
}

/** parseUpstream splits an upstream address, or returns what is wrong with it. */
export function parseUpstream(text: string): Upstream | string {
  if (text.startsWith("unix:")) return { kind: "unix", path: text.slice("unix:".length) };
  const m = /^(https?):\/\/(\[[^\]]+\]|[^:/]+)(?::([0-9]+))?\/?$/.exec(text);
  if (!m) return "is not valid (expected http://HOST:PORT, https://HOST:PORT or unix:/PATH)";
  const scheme = m[1] as "http" | "https";
  const rawHost = m[2]!;
  const port = m[3] === undefined ? (scheme === "https" ? 443 : 80) : Number(m[3]);
  if (port < 1 || port > 65535) return `has port ${port} (expected 1 to 65535)`;
  const bracketed = rawHost.startsWith("[");
  const host = bracketed ? rawHost.slice(1, -1) : rawHost.toLowerCase();
  if (bracketed && isIP(host) !== 6) return `has ${rawHost}, which is not an IPv6 address`;
  const authority = `${bracketed ? `[${host}]` : host}:${port}`;
  return { kind: "tcp", scheme, host, port, authority, url: `${scheme}://${authority}`, hostIsIp: isIP(host) !== 0 };
}

/**
 * mergeSite lays a site over the file's defaults: mappings merge, anything else is replaced.
 * `tls` is a choice between two shapes, so a site's `tls` replaces the default one whole.
 */
export function mergeSite(defaults: SiteSettingsInput | undefined, site: SiteInput): SiteInput {
  if (!defaults) return site;
  const merged = deepMerge(defaults, site) as SiteInput;
  if (site.tls) merged.tls = site.tls;
  return merged;
}

// --- internal ---

const SIZE_UNITS = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const TIME_UNITS = { "": 1, s: 1, m: 60, h: 3600 };
const PLAIN_HOST = /^(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*$/;

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  // A copy by keys: object spread of the same defaults, site after site, is several times slower.
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(base)) out[k] = base[k];
  for (const k of Object.keys(over)) {
    const v = over[k];
    const b = base[k];
    // Only two mappings merge; otherwise the site's value wins (the default when it has none).
    out[k] = b !== undefined && isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v === undefined ? b : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
