// The Traefik plug-in: a file-provider dynamic configuration (`traefik/mxproxy.yml`) and the
// static settings it needs (`traefik/traefik.yml`), the input Traefik cannot serve and how it
// implements each compare feature. Traefik cannot dial a unix socket nor serve a static body.
import type { Backend, SiteCheck } from "../_backend.js";
import { show } from "../../input/_diagnostics.js";
import { parseUpstream } from "../../input/_values.js";
import { options, renderTraefik, wellKnownMode } from "./_render.js";

const ENTRY_POINTS = ["entry_point", "http_entry_point", "federation_entry_point"] as const;
const DEFAULT_ENTRY_POINTS = { entry_point: "websecure", http_entry_point: "web", federation_entry_point: "federation" };

export const traefik = {
  name: "traefik",
  title: "Traefik v3 (file provider; checked against its schema)",
  render: renderTraefik,
  checkFile: (input, err) => {
    const t = input.backends?.traefik ?? {};
    const names = ENTRY_POINTS.map((k) => [k, t[k] ?? DEFAULT_ENTRY_POINTS[k]] as const);
    for (const [knob, name] of names) {
      const clash = names.find(([k, n]) => k !== knob && n === name);
      if (clash && t[knob] !== undefined) err(`backends.traefik.${knob}`, `${show(name)} is also the ${clash[0]} (expected a different name: each names its own entry point)`);
    }
  },
  checkSite: (c: SiteCheck) => {
    const upstream = c.site.homeserver?.upstream;
    // Only a valid socket upstream (validation reports the others) needs a TCP override here.
    const parsed = typeof upstream === "string" ? parseUpstream(upstream) : undefined;
    const socket = typeof parsed === "object" && parsed.kind === "unix" && Buffer.byteLength(parsed.path) <= 107;
    if (socket && !c.site.backends?.traefik?.upstream && !c.input.backends?.traefik?.upstream) {
      c.err(c.source("homeserver.upstream"), `${show(upstream)} is a unix socket, which Traefik cannot dial (set backends.traefik.upstream to a TCP address such as http://127.0.0.1:6167, or render without --backend traefik)`);
    }
    const own = c.raw.backends?.traefik;
    for (const knob of own ? ENTRY_POINTS : []) {
      if (own![knob] !== undefined) c.err(`${c.at}.backends.traefik.${knob}`, `entry point names are shared by every site (expected ${knob} in the top-level backends.traefik)`, "key");
    }
    const t = { ...c.input.backends?.traefik, ...c.site.backends?.traefik };
    if (t.well_known === "static" && !t.static_url) {
      const serverName = typeof c.site.server_name === "string" ? c.site.server_name : "SERVER_NAME";
      c.err(c.site.backends?.traefik ? `${c.at}.backends.traefik.well_known` : "backends.traefik.well_known", `well_known: static needs static_url (the address of a file server that serves out/well-known/${serverName}/)`);
    }
  },
  compare: (plan, site) => {
    const t = options(plan, site);
    const staticMode = wellKnownMode(t) === "static";
    return {
      "well-known": staticMode ? ["external", `static file server at ${t.static_url} (not started by mxproxy)`] : ["external", "routed to the homeserver, which must serve the documents itself"],
      "well-known-unserved": staticMode ? ["yes", "the static server has no such file: 404"] : ["no", "the homeserver decides what it answers"],
      cors: ["yes", "headers.customResponseHeaders"],
      "proxy-target": site.upstream.kind === "unix" ? (t.upstream ? ["yes", `loadBalancer to ${t.upstream} (backends.traefik.upstream)`] : ["no", "Traefik cannot dial a unix socket"]) : ["yes", "loadBalancer.servers"],
      "encoded-paths": ["yes", "entry point encodedCharacters allow*, sanitizePath: false"],
      forwarded: ["yes", "passHostHeader; built in"],
      "body-limit": ["yes", "buffering.maxRequestBodyBytes"],
      timeout: ["yes", "serversTransport forwardingTimeouts.responseHeaderTimeout"],
      "federation-listener": site.federationListener ? ["yes", "federation entry point"] : ["n/a", ""],
      redirect: site.listen.http === null ? ["n/a", ""] : ["yes", "redirectScheme middleware"],
      "tls-source": site.tls.kind === "files" ? ["yes", "tls.certificates"] : ["yes", "certificatesResolvers"],
      "unknown-hosts": ["yes", "Host() rules; no match → 404"],
    };
  },
} as const satisfies Backend<"traefik">;
