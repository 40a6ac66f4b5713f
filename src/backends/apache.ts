// Apache httpd 2.4: one file of virtual hosts per site. Listen lines stay in the user's
// ports.conf (two files each saying "Listen 8448" would stop Apache); the header lists the ports.
import type { Plan, RenderedFile, SitePlan } from "../types.js";
import { CORS_HEADERS, MOZILLA_INTERMEDIATE, hostNames, httpsAuthority, provenance, tlsFiles } from "../_common.js";
import { apacheString, regexLiteral } from "../_escape.js";
import { template } from "../_templates.js";
import { upstreamText } from "./nginx.js";

/** Modules the output needs beyond Debian's default set, for `a2enmod`. */
export const APACHE_MODULES = ["headers", "http2", "proxy", "proxy_http", "rewrite", "ssl"];

/** renderApache renders `apache/<server_name>.conf` for every site. */
export function renderApache(plan: Plan): RenderedFile[] {
  const render = template("apache/site.conf");
  return plan.sites.map((site) => ({
    path: `apache/${site.serverName}.conf`,
    backend: "apache",
    contents: render(view(plan, site)),
  }));
}

// --- internal ---

function view(plan: Plan, site: SitePlan) {
  const documents = site.wellKnown.map((d) => ({
    pathRegex: regexLiteral(d.path),
    body: apacheString(d.body, { expr: true }),
    headers: [["Content-Type", "application/json"], ...CORS_HEADERS].map(([name, value]) => ({ name, value: apacheString(value!) })),
  }));
  const vhosts = [];
  if (!site.sameHost) {
    vhosts.push({ ...base(site, [site.serverName], [site.listen.https]), comment: `Well-known documents for ${site.serverName}.`, documents, notFound: true, wellKnown404: true });
  }
  const ports = [site.listen.https, ...(site.federationListener ? [site.federationListener] : [])];
  vhosts.push({
    ...base(site, [site.host], ports),
    comment: site.sameHost ? `Well-known documents and homeserver on ${site.host}.` : `Homeserver ${site.host}.`,
    documents: site.sameHost ? documents : [],
    wellKnown404: true,
    proxy: proxy(site),
  });
  if (site.listen.http !== null) {
    const names = hostNames(site);
    vhosts.push({
      ...base(site, names, [site.listen.http]),
      comment: "Plain HTTP only redirects to HTTPS.",
      tls: null,
      // %{SERVER_NAME} is the requested name, already checked against the names we serve.
      redirect: `https://%{SERVER_NAME}${httpsAuthority(site, "")}`,
      acmeWebroot: site.tls.kind === "acme",
    });
  }
  const portList = [...new Set(vhosts.flatMap((v) => v.ports))];
  return {
    provenance: provenance(plan),
    serverName: site.serverName,
    host: site.host,
    upstreamText: upstreamText(site),
    modules: APACHE_MODULES.join(" "),
    ports: portList.join(" "),
    vhosts,
  };
}

function base(site: SitePlan, names: string[], ports: number[]) {
  const files = tlsFiles(site, names[0]!);
  return {
    ports,
    addresses: ports.map((p) => `*:${p}`).join(" "),
    serverName: names[0]!,
    aliases: names.slice(1),
    hostRegex: `"!^(?:${names.map(regexLiteral).join("|")})(?::[0-9]+)?$"`,
    tls: { cert: apacheString(files.cert), key: apacheString(files.key), protocols: MOZILLA_INTERMEDIATE.protocols.map((p) => `+${p}`).join(" "), ciphers: MOZILLA_INTERMEDIATE.ciphers },
    redirect: null as string | null,
    acmeWebroot: false,
    documents: [] as unknown[],
    notFound: false,
    wellKnown404: false,
    proxy: null as unknown,
  };
}

function proxy(site: SitePlan) {
  const u = site.upstream;
  const upstreamTls: string[] = [];
  let target: string;
  if (u.kind === "unix") target = apacheString(`unix:${u.path}|http://localhost/`);
  else {
    target = apacheString(`${u.url}/`);
    if (u.scheme === "https") {
      // Verify the homeserver's certificate, as Caddy and Traefik do by default.
      upstreamTls.push("SSLProxyEngine on", "SSLProxyVerify require", "SSLProxyCheckPeerName on", "SSLProxyCACertificateFile /etc/ssl/certs/ca-certificates.crt");
    }
  }
  const preserveHost = !(u.kind === "tcp" && u.scheme === "https");
  return { maxBytes: site.maxUpload.bytes, target, timeout: site.timeout.seconds, upstreamTls, preserveHost };
}
