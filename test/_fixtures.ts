// Fixture discovery shared by the golden, syntax and probe tests: a folder under fixtures/ with
// a site.yaml is a case; fixtures/_errors_/<case>/ holds inputs that must fail.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;
export const FIXTURES = join(ROOT, "fixtures");

export interface Fixture {
  name: string;
  dir: string;
  site: string;
  text: string;
}

/** fixtures lists the valid cases, sorted by name. */
export function fixtures(): Fixture[] {
  return list(FIXTURES).filter((f) => !f.name.startsWith("_"));
}

/** errorFixtures lists the cases that must be rejected. */
export function errorFixtures(): Fixture[] {
  return list(join(FIXTURES, "_errors_"));
}

function list(dir: string): Fixture[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "site.yaml")))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ name, dir: join(dir, name), site: join(dir, name, "site.yaml"), text: readFileSync(join(dir, name, "site.yaml"), "utf8") }));
}

/** UPDATE_GOLDEN=1 rewrites goldens; under CI a missing golden fails instead of being written. */
export const UPDATE = process.env.UPDATE_GOLDEN === "1" && process.env.CI !== "true";
