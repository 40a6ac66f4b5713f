// isIP with the answers of node:net's, without loading node:net and compiling its long IPv6
// pattern (≈10 ms of start-up) for the values nearly every site file has — host names and
// dotted quads. Every IPv6 form node:net accepts contains ":", so only those go to node:net.
import { createRequire } from "node:module";

// node:net's IPv4 pattern (lib/internal/net.js), unchanged.
const V4_SEG = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IPV4 = new RegExp(`^(?:${V4_SEG}\\.){3}${V4_SEG}$`);

let net: typeof import("node:net") | undefined;

/** isIP returns 4 or 6 for an IPv4 or IPv6 address, else 0 (as node:net's isIP). */
export function isIP(value: string): 0 | 4 | 6 {
  if (!value.includes(":")) return IPV4.test(value) ? 4 : 0;
  net ??= createRequire(import.meta.url)("node:net") as typeof import("node:net");
  return net.isIP(value) as 0 | 4 | 6;
}
