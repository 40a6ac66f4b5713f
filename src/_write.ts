// Stage 5: files in memory → disk, atomically and without touching anything that is not ours.
// Which files are ours is recorded in OUT/.mxproxy-manifest.json (old and new files claimed
// before writing, the final list written last).
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { RenderedFile } from "./types.js";

export const MANIFEST = ".mxproxy-manifest.json";

/** An output problem (unwritable target, foreign file, symlink): exit 1, nothing half-written. */
export class OutputError extends Error {
  override name = "OutputError";
}

/** What a write did, for the CLI's summary. */
export interface WriteResult {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/** writeOutput writes `files` under `outDir` via temp file + rename, after checking every target. */
export function writeOutput(outDir: string, files: RenderedFile[]): WriteResult {
  const previous = readManifest(outDir);
  const result: WriteResult = { written: [], unchanged: [], removed: [] };
  const todo: RenderedFile[] = [];
  // Folders already checked, shared by every file: 10,000 sites put 20,000 files in one folder.
  const folders = new Map<string, boolean>();
  for (const f of files) {
    const target = join(outDir, f.path);
    const current = probe(outDir, f.path, folders) ? readFileSync(target, "utf8") : undefined;
    if (current === f.contents) result.unchanged.push(f.path);
    else if (current !== undefined && !previous.has(f.path)) {
      throw new OutputError(`${target} exists and was not written by mxproxy (move it away or choose another --out); nothing was written`);
    } else todo.push(f);
  }
  const rendered = new Set(files.map((f) => f.path));
  const stale = [...previous].filter((p) => !rendered.has(p) && readIfFile(outDir, p) !== undefined);
  const made = new Set<string>();
  const manifest = (paths: Iterable<string>) => JSON.stringify({ generator: "mxproxy", files: [...new Set(paths)].sort() }, null, 2) + "\n";
  // Claim every file first (old and new): a render killed midway leaves files the next render
  // still knows as its own.
  if (todo.some((f) => !previous.has(f.path))) atomicWrite(join(outDir, MANIFEST), manifest([...previous, ...rendered]), made);
  removeDeadTemps(new Set(todo.map((f) => dirname(join(outDir, f.path)))));
  // Two phases: every temp file is written before any is renamed, so a folder we cannot write
  // to stops the render before a single file changed.
  const temps: [string, string][] = [];
  try {
    for (const f of todo) temps.push([writeTemp(join(outDir, f.path), f.contents, made), join(outDir, f.path)]);
  } catch (e) {
    for (const [tmp] of temps) unlinkSync(tmp);
    throw e;
  }
  for (const [tmp, target] of temps) renameSync(tmp, target);
  result.written.push(...todo.map((f) => f.path));
  for (const p of stale) {
    unlinkSync(join(outDir, p));
    result.removed.push(p);
  }
  const final = manifest(rendered);
  if (readIfFile(outDir, MANIFEST) !== final) atomicWrite(join(outDir, MANIFEST), final, made);
  return result;
}

/** readManifest lists the files a previous render wrote (empty when there was none). */
export function readManifest(outDir: string): Set<string> {
  const text = readIfFile(outDir, MANIFEST);
  if (text === undefined) return new Set();
  try {
    const files = (JSON.parse(text) as { files?: unknown }).files;
    return new Set(Array.isArray(files) ? files.filter((f): f is string => typeof f === "string" && safeRelative(f)) : []);
  } catch {
    throw new OutputError(`${join(outDir, MANIFEST)} is not valid JSON (delete it to start over)`);
  }
}

/** readIfFile returns a file's text, undefined when absent; symlinks and folders are errors. */
export function readIfFile(outDir: string, rel: string): string | undefined {
  return probe(outDir, rel) ? readFileSync(join(outDir, rel), "utf8") : undefined;
}

// --- internal ---

/**
 * probe checks each part of `rel` below `outDir` (no symbolic links, folders where folders are
 * needed) and says whether the file exists. `folders` remembers folders already checked (true:
 * a folder, false: absent) for the next files of the same write.
 */
function probe(outDir: string, rel: string, folders?: Map<string, boolean>): boolean {
  const target = join(outDir, rel);
  const parts = rel.split("/");
  let path = outDir;
  for (const part of parts) {
    path = join(path, part);
    const known = path !== target ? folders?.get(path) : undefined;
    if (known === false) return false;
    if (known === true) continue;
    const st = lstatOrUndefined(path);
    if (st === undefined) {
      if (path !== target) folders?.set(path, false);
      return false;
    }
    if (st.isSymbolicLink()) throw new OutputError(`${path} is a symbolic link; mxproxy does not write through links (replace it with a real ${part === parts[parts.length - 1] ? "file" : "folder"})`);
    if (path !== target && !st.isDirectory()) throw new OutputError(`${path} is a file where mxproxy needs a folder`);
    if (path === target && !st.isFile()) throw new OutputError(`${path} is not a regular file (mxproxy needs to write a file there)`);
    if (path !== target) folders?.set(path, true);
  }
  return true;
}

/** removeDeadTemps deletes temp files that a killed render (a process no longer running) left. */
function removeDeadTemps(dirs: Set<string>): void {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // not there yet: nothing to clean
    }
    for (const name of names) {
      const m = /^\..+\.mxproxy-tmp-([0-9]+)$/.exec(name);
      if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) unlinkSync(join(dir, name));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** atomicWrite writes `target` through a temp file and a rename; `made` lists folders made. */
function atomicWrite(target: string, contents: string, made: Set<string>): void {
  renameSync(writeTemp(target, contents, made), target);
}

/** writeTemp writes `contents` to a temp file beside `target` and returns its path. */
function writeTemp(target: string, contents: string, made: Set<string>): string {
  const dir = dirname(target);
  try {
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const tmp = join(dir, `.${target.slice(dir.length + 1)}.mxproxy-tmp-${process.pid}`);
    const fd = openSync(tmp, "w", 0o644);
    try {
      // No fsync: rename is atomic against a killed process, which is the case we promise.
      writeSync(fd, contents);
    } finally {
      closeSync(fd);
    }
    return tmp;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OutputError(`cannot write ${target}: ${err.code === "EACCES" || err.code === "EPERM" ? "permission denied" : err.code === "ENOTDIR" ? "a file stands where a folder is needed" : err.message}; nothing was changed`);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    // throwIfNoEntry: an absent file is the common case; an exception per file is costly.
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    throw new OutputError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

function safeRelative(p: string): boolean {
  return p !== "" && !p.startsWith("/") && !p.split("/").includes("..") && relative(".", p).split(sep)[0] !== "..";
}
