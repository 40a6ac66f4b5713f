// Finds an executable on PATH or in the sbin folders: Debian installs nginx and apache2 in
// /usr/sbin, which a non-root PATH often lacks. Shared by setup-servers.mjs and the test harness.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** findBinary returns the absolute path of `bin`, or undefined. */
export function findBinary(bin) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}
