// The starter site file written by `mxproxy init`.

/** starterSite returns a commented site file; its first line points editors at the schema. */
export function starterSite(o: { serverName: string; host: string; upstream: string }): string {
  const q = (v: string) => JSON.stringify(v);
  return `# yaml-language-server: $schema=https://unpkg.com/mxproxy/schema/site.schema.json
# mxproxy site description. Render with: mxproxy render site.yaml --out out/
# Every field is documented in the schema (mxproxy schema) and in mxproxy's README.
version: 1
sites:
  # The Matrix server name: the part after ":" in user IDs (@alice:${o.serverName}).
  - server_name: ${q(o.serverName)}
    homeserver:
      # Public hostname of the homeserver (may equal server_name).
      host: ${q(o.host)}
      # Where the homeserver process listens: http://HOST:PORT, https://HOST:PORT or unix:/PATH.sock
      upstream: ${q(o.upstream)}
      # Largest upload accepted (K, M, G suffixes).
      max_upload: 50M
      # How long to wait for the homeserver's response headers (long-poll /sync).
      timeout: 600s
    # Certificates: ACME (certbot for nginx/Apache, automatic in Caddy, a resolver in Traefik),
    # or files:  tls: { cert: /etc/ssl/fullchain.pem, key: /etc/ssl/privkey.pem }
    tls:
      acme: {}
    # Optional: extra keys for /.well-known/matrix/client, a support document, federation on 8448.
    # well_known:
    #   client:
    #     m.identity_server: { base_url: https://vector.im }
    #   support:
    #     contacts: [{ matrix_id: "@admin:${o.serverName}", role: m.role.admin }]
    # federation:
    #   port: 8448
`;
}
