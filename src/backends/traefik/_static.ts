// The Traefik static configuration: one entry point per port, named after its role.
import type { Plan } from "../../types.js";

/** Entry point names by role and port, shared by the static and the dynamic file. */
export interface EntryPoints {
  https(port: number): string;
  http(port: number): string;
  federation(port: number): string;
  /** name → port, in a stable order. */
  all(): [string, number][];
}

/** entryPoints names every port the plan listens on; a port has one name whatever its roles. */
export function entryPoints(plan: Plan): EntryPoints {
  const t = plan.backends.traefik ?? {};
  const byPort = new Map<number, string>();
  const name = (base: string, standard: number) => (port: number) => {
    let n = byPort.get(port);
    if (n === undefined) {
      n = port === standard ? base : `${base}-${port}`;
      byPort.set(port, n);
    }
    return n;
  };
  const https = name(t.entry_point ?? "websecure", 443);
  const federation = name(t.federation_entry_point ?? "federation", 8448);
  const http = name(t.http_entry_point ?? "web", 80);
  // Assign names in a fixed order so output does not depend on the order of use.
  for (const s of plan.sites) https(s.listen.https);
  for (const s of plan.sites) if (s.federationListener) federation(s.federationListener);
  for (const s of plan.sites) if (s.listen.http !== null) http(s.listen.http);
  return { https, http, federation, all: () => [...byPort.entries()].map(([p, n]) => [n, p] as [string, number]) };
}

/** traefikStatic builds the static configuration object. */
export function traefikStatic(plan: Plan, eps: EntryPoints, dynamicDir: string): Record<string, unknown> {
  const httpPorts = new Set(plan.sites.map((s) => s.listen.http));
  const readTimeout = Math.max(...plan.sites.map((s) => s.timeout.seconds));
  const entry: Record<string, unknown> = {};
  for (const [name, port] of eps.all()) {
    const ep: Record<string, unknown> = { address: `:${port}` };
    if (!httpPorts.has(port)) {
      ep.http = {
        // Matrix IDs in paths are percent-encoded (%21 %3A %40 %2F %23 ...): pass them through.
        encodedCharacters: { allowEncodedSlash: true, allowEncodedBackSlash: true, allowEncodedSemicolon: true, allowEncodedPercent: true, allowEncodedQuestionMark: true, allowEncodedHash: true },
        // Federation signatures cover the raw path: do not clean it.
        sanitizePath: false,
      };
      // Uploads and long requests must not be cut at Traefik's 60 s read default.
      ep.transport = { respondingTimeouts: { readTimeout: `${readTimeout}s` } };
    }
    entry[name] = ep;
  }
  const out: Record<string, unknown> = { entryPoints: entry };
  // One ACME resolver per name the sites use (a site may name its own in backends.traefik).
  const resolvers: Record<string, unknown> = {};
  for (const s of plan.sites) {
    if (s.tls.kind !== "acme") continue;
    const name = s.backends.traefik?.cert_resolver ?? plan.backends.traefik?.cert_resolver ?? "letsencrypt";
    if (name in resolvers) continue;
    const challenge = s.listen.http !== null ? { httpChallenge: { entryPoint: eps.http(s.listen.http) } } : { tlsChallenge: {} };
    resolvers[name] = { acme: { ...(s.tls.email ? { email: s.tls.email } : {}), storage: "/var/lib/traefik/acme.json", ...challenge } };
  }
  if (Object.keys(resolvers).length > 0) out.certificatesResolvers = resolvers;
  out.providers = { file: { directory: dynamicDir, watch: true } };
  return out;
}
