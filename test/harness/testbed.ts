// Shared set-up for tests that start real servers: a temp base folder readable by the servers'
// workers (nobody), a test PKI for a.test/b.test, a stub upstream on TCP and a unix socket.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki, type TestPki } from "./certs.ts";
import { atTermination } from "./proc.ts";
import { startStub, type Stub } from "./stub.ts";

export interface Testbed {
  base: string;
  pki: TestPki;
  stub: Stub;
  /** a fresh OUT folder with `files` (relative path → text; `@OUT@` → the folder) written into it */
  out(files: Record<string, string>): string;
  /** a fresh work folder for one server's wrapper config, pid, logs, temp files */
  work(): string;
  close(): Promise<void>;
}

export async function makeTestbed(names = ["a.test", "b.test"]): Promise<Testbed> {
  const base = mkdtempSync(join(tmpdir(), "mxproxy-test-"));
  chmodSync(base, 0o755); // mkdtemp gives 0700; workers run as nobody
  // A signal-killed run skips after(): still remove the folder (sync; servers are killed first).
  atTermination(() => rmSync(base, { recursive: true, force: true }));
  const pki = makeTestPki(join(base, "pki"), names);
  const stub = await startStub({ socketPath: join(base, "stub.sock") });
  return {
    base,
    pki,
    stub,
    out(files) {
      const dir = mkdtempSync(join(base, "out-"));
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(join(dir, rel, ".."), { recursive: true });
        writeFileSync(join(dir, rel), text.replaceAll("@OUT@", dir));
      }
      return dir;
    },
    work: () => mkdtempSync(join(base, "work-")),
    async close() {
      await stub.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** True when nothing accepts TCP on 127.0.0.1:port (e.g. after stop()). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", () => resolve(true));
  });
}
