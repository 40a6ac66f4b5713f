// The Caddy plug-in: one complete `caddy/Caddyfile` for every site, the values a Caddyfile cannot
// hold and how it implements each compare feature.
import type { Backend, SiteCheck } from "../_backend.js";
import { show } from "../../input/_diagnostics.js";
import { caddyQuotable } from "./_escape.js";
import { renderCaddy } from "./_render.js";

export const caddy = {
  name: "caddy",
  title: "Caddy (tested with 2.6.2)",
  render: renderCaddy,
  checkSite: (c: SiteCheck) => {
    const check = (path: string, value: unknown) => {
      if (typeof value === "string" && !caddyQuotable(value)) c.err(path, `${show(value)} cannot be written in a Caddyfile (a backtick together with a backslash before a quote; rename the file or render without --backend caddy)`);
    };
    const tls = c.site.tls;
    if (tls && "cert" in tls) check(`${c.at}.tls.cert`, tls.cert);
    if (tls && "key" in tls) check(`${c.at}.tls.key`, tls.key);
    check(c.source("homeserver.upstream"), c.site.homeserver?.upstream);
  },
  compare: (_plan, site) => ({
    "well-known": ["yes", 'handle … { respond "…" 200 }'],
    "well-known-unserved": ["yes", "handle /.well-known/matrix/* { respond 404 }"],
    cors: ["yes", "header"],
    "proxy-target": ["yes", "reverse_proxy"],
    "encoded-paths": ["yes", "reverse_proxy passes the raw target"],
    forwarded: ["yes", "built in (incoming ones not trusted)"],
    "body-limit": ["yes", "expression matcher on Content-Length → 413, request_body max_size"],
    timeout: ["yes", "transport http response_header_timeout"],
    "federation-listener": site.federationListener ? ["yes", `site address https://${site.host}:${site.federationListener}`] : ["n/a", ""],
    redirect: site.listen.http === null ? ["n/a", ""] : ["yes", "redir … permanent"],
    "tls-source": site.tls.kind === "files" ? ["yes", "tls CERT KEY"] : ["yes", "automatic HTTPS"],
    "unknown-hosts": ["yes", "strict_sni_host; host-matched sites"],
  }),
} as const satisfies Backend<"caddy">;
