// `render --check`: compare what would be rendered with what is on disk, as unified diffs.
import { createTwoFilesPatch } from "diff";
import { join } from "node:path";
import type { RenderedFile } from "../types.js";
import { readIfFile, readManifest } from "./_write.js";

/** One file that differs: `missing` (not on disk), `changed`, or `extra` (ours, no longer rendered). */
export interface Drift {
  path: string;
  kind: "missing" | "changed" | "extra";
  diff: string;
}

/** checkDrift lists every generated file whose bytes on disk differ from `files`. */
export function checkDrift(outDir: string, files: RenderedFile[]): Drift[] {
  const drift: Drift[] = [];
  const rendered = new Set<string>();
  for (const f of files) {
    rendered.add(f.path);
    const current = readIfFile(outDir, f.path);
    if (current === f.contents) continue;
    const a = current === undefined ? "/dev/null" : join(outDir, f.path);
    drift.push({ path: f.path, kind: current === undefined ? "missing" : "changed", diff: createTwoFilesPatch(a, join(outDir, f.path), current ?? "", f.contents, "on disk", "rendered") });
  }
  for (const p of [...readManifest(outDir)].sort()) {
    if (rendered.has(p)) continue;
    const current = readIfFile(outDir, p);
    if (current !== undefined) drift.push({ path: p, kind: "extra", diff: createTwoFilesPatch(join(outDir, p), "/dev/null", current, "", "on disk", "no longer rendered") });
  }
  return drift;
}
