// Public types of mxproxy. The Plan is the backend-neutral model every renderer and every
// conformance probe works from; the input types mirror schema/site.schema.json.

/** Names of the supported backends, in the order they are rendered and reported. */
export type BackendName = import("./backends/_registry.js").BackendName;

/** A position in a source file, 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** One problem found in the input. `path` is a JSON path such as `sites[0].homeserver.upstream`. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** A parsed source file: the plain value plus the position of every node, keyed by JSON path. */
export interface LoadedSite {
  file: string;
  value: unknown;
  /** Position of each key (for mapping entries) or value, keyed by JSON path (`sites[0].tls`). */
  positions: Map<string, { key?: Position; value: Position }>;
  /** Problems found while parsing (syntax errors, duplicate keys, …). */
  diagnostics: Diagnostic[];
}

// --- input (version 1 of the YAML contract) ---

export interface WellKnownClientInput {
  base_url?: string;
  [key: string]: unknown;
}

export interface SupportContactInput {
  matrix_id?: string;
  email_address?: string;
  role: string;
}

export interface SupportInput {
  contacts?: SupportContactInput[];
  support_page?: string;
}

export interface TraefikOptions {
  entry_point?: string;
  http_entry_point?: string;
  federation_entry_point?: string;
  cert_resolver?: string;
  well_known?: "homeserver" | "static";
  static_url?: string;
  upstream?: string;
}

export interface BackendsInput {
  traefik?: TraefikOptions;
}

export interface SiteSettingsInput {
  homeserver?: {
    host?: string;
    upstream?: string;
    max_upload?: string | number;
    timeout?: string | number;
  };
  well_known?: {
    client?: WellKnownClientInput | false;
    server?: string | false;
    support?: SupportInput;
  };
  federation?: { port?: number };
  listen?: { https?: number; http?: number | false };
  tls?: { acme: { email?: string } } | { cert: string; key: string };
  backends?: BackendsInput;
}

export interface SiteInput extends SiteSettingsInput {
  server_name: string;
}

export interface SiteFileInput {
  version: 1;
  sites: SiteInput[];
  defaults?: SiteSettingsInput;
  backends?: BackendsInput;
}

// --- the Plan ---

/** Where the homeserver listens. */
export type Upstream =
  | { kind: "tcp"; scheme: "http" | "https"; host: string; port: number; /** `host:port`, IPv6 bracketed */ authority: string; /** `scheme://authority` */ url: string; hostIsIp: boolean }
  | { kind: "unix"; path: string };

/** A static JSON document served under `/.well-known/matrix/`. */
export interface WellKnownDocument {
  /** `client`, `server` or `support`. */
  name: "client" | "server" | "support";
  /** URL path, e.g. `/.well-known/matrix/client`. */
  path: string;
  /** The parsed document (what a client must see after JSON.parse). */
  json: unknown;
  /** The exact bytes served and written to out/well-known (ASCII-safe JSON, trailing newline). */
  body: string;
}

export type TlsPlan = { kind: "acme"; email?: string } | { kind: "files"; cert: string; key: string };

/** One Matrix deployment: a server name and the homeserver behind it. */
export interface SitePlan {
  /** Index of the site in the input file (for messages). */
  index: number;
  serverName: string;
  host: string;
  /** True when the well-known documents and the homeserver share one hostname. */
  sameHost: boolean;
  upstream: Upstream;
  maxUpload: { text: string; bytes: number };
  timeout: { text: string; seconds: number };
  /** Documents served on `serverName`, in the order client, server, support. */
  wellKnown: WellKnownDocument[];
  /** The `m.server` delegation target (`host:port`), or null when federation is off. */
  federationTarget: string | null;
  /** A second HTTPS listener on the homeserver host for federation, or null. */
  federationListener: number | null;
  listen: { https: number; http: number | null };
  tls: TlsPlan;
  backends: BackendsInput;
}

/** The backend-neutral description of everything that is rendered. */
export interface Plan {
  /** `mxproxy 0.1.0`. */
  generator: string;
  /** Source file name as given (basename only, so output does not depend on the machine). */
  source: string;
  /** First 16 hex digits of the SHA-256 of the normalised input. */
  hash: string;
  sites: SitePlan[];
  backends: BackendsInput;
}

/** A rendered file, relative to the output directory. */
export interface RenderedFile {
  path: string;
  contents: string;
  backend: BackendName | "well-known";
}

/** Options for rendering. */
export interface RenderOptions {
  /** Backends to render; all four by default. */
  backends?: BackendName[];
}
