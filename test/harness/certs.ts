// Test PKI: one throwaway CA and one leaf signed by it, made with the openssl CLI (the servers'
// own TLS stacks then read exactly what a user's certbot files would look like: PEM, leaf + key).
// The leaf carries basicConstraints=critical,CA:FALSE because Apache warns (AH01906) on a
// self-signed CA-looking server cert; clients trust the CA, so SNI/hostname checks stay real.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";

export interface TestPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** leaf followed by the CA, for servers/configs that want a full chain */
  chainFile: string;
  ca: Buffer;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr?.toString() || err.message}`);
  }
}

/**
 * Create `dir` (0755) with ca.crt, ca.key, leaf.crt, leaf.key, chain.crt. The leaf's SAN lists all
 * `names` (IP literals become IP SANs). EC P-256 keys: generated in milliseconds, and all three
 * servers and Node accept them.
 */
export function makeTestPki(dir: string, names: string[]): TestPki {
  if (names.length === 0) throw new Error("makeTestPki: need at least one name");
  dir = resolve(dir);
  mkdirSync(dir, { recursive: true });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...key,
      "-days",
      "2",
      "-subj",
      "/CN=mxproxy test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  openssl(["req", ...key, "-subj", `/CN=${names[0]}`, "-keyout", "leaf.key", "-out", "leaf.csr"], dir);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  writeFileSync(
    join(dir, "leaf.ext"),
    [
      `subjectAltName=${san}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "leaf.ext",
      "-out",
      "leaf.crt",
    ],
    dir,
  );
  const ca = readFileSync(join(dir, "ca.crt"));
  writeFileSync(join(dir, "chain.crt"), Buffer.concat([readFileSync(join(dir, "leaf.crt")), ca]));
  // Workers run as nobody; a mktemp folder is 0700. Readable keys are fine for throwaway test PKI.
  chmodSync(dir, 0o755);
  for (const f of ["ca.crt", "ca.key", "leaf.crt", "leaf.key", "chain.crt", "leaf.csr", "leaf.ext"]) {
    chmodSync(join(dir, f), 0o644);
  }
  return {
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "leaf.crt"),
    keyFile: join(dir, "leaf.key"),
    chainFile: join(dir, "chain.crt"),
    ca,
  };
}
