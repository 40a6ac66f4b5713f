// The Apache httpd plug-in: one file of virtual hosts per site (`apache/<server_name>.conf`), its
// limits and how it implements each compare feature.
import type { Backend } from "../_backend.js";
import { documentLimits } from "../_limits.js";
import { apacheString } from "./_escape.js";
import { renderApache } from "./_render.js";

/** Apache reads config lines of at most 8192 bytes (MAX_STRING_LEN), directive included. */
const APACHE_LINE = 8192 - "        ErrorDocument 200 ".length - 2;

export const apache = {
  name: "apache",
  title: "Apache httpd (tested with 2.4.71)",
  render: renderApache,
  checkPlan: (loaded, plan) =>
    documentLimits(loaded, plan, {
      quote: (body) => apacheString(body, { expr: true }),
      max: APACHE_LINE,
      growth: 4,
      server: "for Apache",
      why: "Apache reads no longer config line; shorten it or render without --backend apache",
    }),
  compare: (_plan, site) => ({
    "well-known": ["yes", '<LocationMatch> ErrorDocument 200 "…" + RewriteRule [R=200]'],
    "well-known-unserved": ["yes", "<Location /.well-known/matrix/> RewriteRule [R=404]"],
    cors: ["yes", "Header always set"],
    "proxy-target": ["yes", "ProxyPass / … nocanon"],
    "encoded-paths": ["yes", "AllowEncodedSlashes NoDecode + nocanon"],
    forwarded: ["yes", "ProxyPreserveHost on; RequestHeader"],
    "body-limit": ["yes", "RewriteCond Content-Length -gt … [R=413] + LimitRequestBody"],
    timeout: ["yes", "ProxyPass timeout="],
    "federation-listener": site.federationListener ? ["yes", `<VirtualHost *:${site.federationListener}> (Listen ${site.federationListener} in ports.conf)`] : ["n/a", ""],
    redirect: site.listen.http === null ? ["n/a", ""] : ["yes", "RewriteRule … [R=301,NE]"],
    "tls-source": site.tls.kind === "files" ? ["yes", "SSLCertificateFile"] : ["external", "certbot (/etc/letsencrypt/live/NAME/)"],
    "unknown-hosts": ["yes", "RewriteCond %{HTTP_HOST} … [R=421]"],
  }),
} as const satisfies Backend<"apache">;
