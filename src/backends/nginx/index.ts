// The nginx plug-in: one file of server blocks per site (`nginx/<server_name>.conf`, to include
// inside http {}), its limits and how it implements each compare feature.
import type { Backend } from "../_backend.js";
import { documentLimits } from "../_limits.js";
import { nginxString } from "./_escape.js";
import { renderNginx } from "./_render.js";

/** nginx reads at most 4096 bytes into one token (NGX_CONF_BUFFER). */
const NGINX_TOKEN = 4096;

export const nginx = {
  name: "nginx",
  title: "nginx (tested with 1.22)",
  render: renderNginx,
  checkPlan: (loaded, plan) =>
    documentLimits(loaded, plan, { quote: nginxString, max: NGINX_TOKEN - 2, growth: 2, server: "for nginx", why: "nginx reads no longer token; shorten it or render without --backend nginx" }),
  compare: (_plan, site) => ({
    "well-known": ["yes", "location = … { default_type application/json; return 200 '…'; }"],
    "well-known-unserved": ["yes", "location ^~ /.well-known/matrix/ { return 404; }"],
    cors: ["yes", "add_header … always"],
    "proxy-target": ["yes", "proxy_pass (no URI part)"],
    "encoded-paths": ["yes", "proxy_pass without URI, merge_slashes off"],
    forwarded: ["yes", "proxy_set_header"],
    "body-limit": ["yes", "client_max_body_size"],
    timeout: ["yes", "proxy_read_timeout"],
    "federation-listener": site.federationListener ? ["yes", `listen ${site.federationListener} ssl`] : ["n/a", ""],
    redirect: site.listen.http === null ? ["n/a", ""] : ["yes", "return 301 https://…$request_uri"],
    "tls-source": site.tls.kind === "files" ? ["yes", "ssl_certificate"] : ["external", "certbot (/etc/letsencrypt/live/NAME/)"],
    "unknown-hosts": ["yes", "if ($host != …) { return 421; }"],
  }),
} as const satisfies Backend<"nginx">;
