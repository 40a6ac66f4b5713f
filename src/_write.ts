// Stage 5: rendered files → disk, atomically and without touching anything that is not ours.
// Which files are ours is recorded in OUT/.mxproxy-manifest.json (old and new files claimed
// before anything is renamed into place, the final list written last).
//
// Nothing is visible before everything is ready. A file whose folder (nginx/, apache/, caddy/,
// traefik/, well-known/) already exists is written to a temp file beside it; a folder that does
// not exist yet is built whole in OUT/.mxproxy-stage-PID/ (one file creation per file, no temp
// names, no per-file rename). Only when every file is written are the temp files and the staged
// folders renamed into place. A render killed midway leaves temp files or a stage folder, which
// the next render removes once their process is gone.
//
// Big renders write on a worker thread (src/_write-worker.ts) while the main thread renders:
// the file system calls are most of the work for 10,000 sites (BENCH.md). The worker runs the
// same Writer class; the main thread streams files to it and waits for its verdict.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync, type Stats } from "node:fs";
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

/** Options for writeOutput. */
export interface WriteOptions {
  /**
   * Write on a worker thread while `files` is still being produced (an iterable that renders
   * lazily, like renderFiles). Default: only for arrays of at least 400 files.
   */
  thread?: boolean;
}

/** Set by scripts/build.mjs: the worker's code (src/_write-worker.ts, bundled). */
declare const MXPROXY_WRITE_WORKER: string | undefined;

/** writeOutput writes `files` under `outDir`: every target checked, all written, then renamed in. */
export function writeOutput(outDir: string, files: Iterable<RenderedFile>, options: WriteOptions = {}): WriteResult {
  const forced = process.env.MXPROXY_WRITE_THREAD;
  const wanted = forced ? forced === "1" : options.thread ?? (Array.isArray(files) && files.length >= 400);
  // Without the build's worker code (running from src/ under tsx) every write is in this thread.
  const sink: Sink = wanted && typeof MXPROXY_WRITE_WORKER === "string" ? new ThreadSink(outDir, MXPROXY_WRITE_WORKER) : new Writer(outDir);
  try {
    for (const f of files) sink.add(f.path, f.contents);
  } catch (e) {
    sink.abort();
    throw e;
  }
  return sink.commit();
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

/** Where files go: the Writer itself, or a worker thread running one. */
interface Sink {
  add(path: string, contents: string): void;
  commit(): WriteResult;
  abort(): void;
}

/**
 * Writer does one write: add() every file (checked and written to a temp file or the stage),
 * then commit() (manifest, renames, stale files) or abort() (every temp and the stage removed).
 */
export class Writer implements Sink {
  private readonly previous: Set<string>;
  private readonly stage: string;
  private readonly paths: string[] = [];
  private readonly result: WriteResult = { written: [], unchanged: [], removed: [] };
  /** Temp file → target, renamed at commit. */
  private readonly temps: [string, string][] = [];
  /** Top-level folder → whether it is built in the stage (it did not exist). */
  private readonly staged = new Map<string, boolean>();
  /** Folders checked by probe(): true a folder, false absent. */
  private readonly folders = new Map<string, boolean>();
  /** Folders this write made (or found) in the stage or beside the targets. */
  private readonly made = new Set<string>();
  private stageMade = false;

  constructor(private readonly outDir: string) {
    this.previous = readManifest(outDir);
    this.stage = join(outDir, `.mxproxy-stage-${process.pid}`);
    removeDeadStages(outDir);
  }

  add(path: string, contents: string): void {
    this.paths.push(path);
    const slash = path.indexOf("/");
    const top = slash < 0 ? "" : path.slice(0, slash);
    let staged = this.staged.get(top);
    if (staged === undefined) {
      staged = top !== "" && lstatOrUndefined(join(this.outDir, top)) === undefined;
      this.staged.set(top, staged);
      if (staged && !this.stageMade) {
        this.mkdir(this.outDir, true);
        this.mkdir(this.stage, false);
        this.stageMade = true;
      }
    }
    if (staged) {
      this.create(join(this.stage, path), contents);
      this.result.written.push(path);
      return;
    }
    const target = join(this.outDir, path);
    const current = probe(this.outDir, path, this.folders) ? readFileSync(target, "utf8") : undefined;
    if (current === contents) {
      this.result.unchanged.push(path);
      return;
    }
    if (current !== undefined && !this.previous.has(path)) {
      throw new OutputError(`${target} exists and was not written by mxproxy (move it away or choose another --out); nothing was written`);
    }
    const dir = dirname(target);
    if (!this.made.has(dir)) {
      this.mkdir(dir, true);
      removeDeadTemps(dir);
    }
    const tmp = join(dir, `.${target.slice(dir.length + 1)}.mxproxy-tmp-${process.pid}`);
    this.create(tmp, contents, target);
    this.temps.push([tmp, target]);
    this.result.written.push(path);
  }

  commit(): WriteResult {
    const { outDir, previous, result } = this;
    const rendered = new Set(this.paths);
    const stale = [...previous].filter((p) => !rendered.has(p) && readIfFile(outDir, p) !== undefined);
    // Claim every file (old and new) before any is renamed in: a render killed midway leaves
    // files the next render still knows as its own.
    if (this.paths.some((p) => !previous.has(p))) this.atomicWrite(manifest([...previous, ...this.paths]));
    try {
      for (const [tmp, target] of this.temps) renameSync(tmp, target);
      for (const [top, staged] of this.staged) if (staged) renameSync(join(this.stage, top), join(outDir, top));
      if (this.stageMade) rmSync(this.stage, { recursive: true, force: true });
    } catch (e) {
      throw new OutputError(`cannot move the new files into ${outDir}: ${(e as Error).message}`);
    }
    for (const p of stale) {
      unlinkSync(join(outDir, p));
      result.removed.push(p);
    }
    const final = manifest(this.paths);
    if (readIfFile(outDir, MANIFEST) !== final) this.atomicWrite(final);
    return result;
  }

  abort(): void {
    for (const [tmp] of this.temps) rmSync(tmp, { force: true });
    if (this.stageMade) rmSync(this.stage, { recursive: true, force: true });
  }

  /** create writes a new file (`target` names it in messages). */
  private create(path: string, contents: string, target = path): void {
    const dir = dirname(path);
    try {
      if (!this.made.has(dir)) this.mkdir(dir, true);
      const fd = openSync(path, "w", 0o644);
      try {
        // No fsync: rename is atomic against a killed process, which is the case we promise.
        writeSync(fd, contents);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      this.abort();
      if (e instanceof OutputError) throw e;
      const err = e as NodeJS.ErrnoException;
      const what = err.code === "EACCES" || err.code === "EPERM" ? "permission denied" : err.code === "ENOTDIR" ? "a file stands where a folder is needed" : err.message;
      throw new OutputError(`cannot write ${this.shown(target)}: ${what}; nothing was changed`);
    }
  }

  /** mkdir makes `dir` (its parents too when `parents`), once per write. */
  private mkdir(dir: string, parents: boolean): void {
    if (this.made.has(dir)) return;
    // In the stage nothing exists yet: one mkdir per level, parents first, is cheapest.
    if (dir.startsWith(this.stage + sep)) this.mkdir(dirname(dir), false);
    try {
      mkdirSync(dir, { recursive: parents && !dir.startsWith(this.stage) });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new OutputError(`cannot make ${dir === this.stage ? `a folder in ${this.outDir}` : `the folder ${this.shown(dir)}`}: ${err.code === "EACCES" || err.code === "EPERM" ? "permission denied" : err.code === "ENOTDIR" || err.code === "EEXIST" ? "a file stands where a folder is needed" : err.message}; nothing was changed`);
    }
    this.made.add(dir);
  }

  /** shown names a path in the stage by where it is going. */
  private shown(path: string): string {
    return path.startsWith(this.stage + sep) ? join(this.outDir, path.slice(this.stage.length + 1)) : path;
  }

  private atomicWrite(contents: string): void {
    const target = join(this.outDir, MANIFEST);
    const tmp = join(this.outDir, `.${MANIFEST}.mxproxy-tmp-${process.pid}`);
    this.mkdir(this.outDir, true);
    this.create(tmp, contents, target);
    renameSync(tmp, target);
  }
}

// --- internal ---

function manifest(paths: Iterable<string>): string {
  return JSON.stringify({ generator: "mxproxy", files: [...new Set(paths)].sort() }, null, 2) + "\n";
}

/**
 * ThreadSink hands files to a Writer on a worker thread, in batches. The main thread blocks
 * (Atomics.wait) only when too much is in flight (bounded memory) and at commit.
 */
class ThreadSink implements Sink {
  /** [0] characters in flight, [1] worker failed, [2] worker answered. */
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: import("node:worker_threads").Worker;
  private readonly replies: import("node:worker_threads").MessagePort;
  private readonly receive: typeof import("node:worker_threads").receiveMessageOnPort;
  private batch: string[] = [];
  private chars = 0;

  constructor(outDir: string, code: string) {
    // Loaded here, not at the top: most renders are small and never start a thread.
    const { Worker, MessageChannel, receiveMessageOnPort } = process.getBuiltinModule("node:worker_threads");
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(code, { eval: true, workerData: { outDir, shared: this.shared, replies: port2 }, transferList: [port2] });
    this.worker.unref();
    this.replies = port1;
    this.receive = receiveMessageOnPort;
  }

  add(path: string, contents: string): void {
    if (Atomics.load(this.shared, 1) !== 0) return; // failed: the error comes with commit()
    this.batch.push(path, contents);
    this.chars += contents.length;
    if (this.chars >= BATCH_CHARS || this.batch.length >= 2 * BATCH_FILES) this.flush();
  }

  commit(): WriteResult {
    this.flush();
    return this.ask("commit");
  }

  abort(): void {
    try {
      this.flush();
      this.ask("abort");
    } catch {
      // The worker's own failure, if any, is not the error being reported.
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    Atomics.add(this.shared, 0, this.chars);
    this.worker.postMessage({ batch: this.batch, chars: this.chars });
    this.batch = [];
    this.chars = 0;
    for (let n = Atomics.load(this.shared, 0); n > IN_FLIGHT_CHARS; n = Atomics.load(this.shared, 0)) Atomics.wait(this.shared, 0, n);
  }

  private ask(what: "commit" | "abort"): WriteResult {
    this.worker.postMessage({ [what]: true });
    while (Atomics.load(this.shared, 2) === 0) Atomics.wait(this.shared, 2, 0);
    const reply = this.receive(this.replies)!.message as { result?: WriteResult; error?: { name: string; message: string; stack?: string } };
    this.replies.close();
    if (reply.error) {
      if (reply.error.name === "OutputError") throw new OutputError(reply.error.message);
      throw Object.assign(new Error(reply.error.message), { stack: reply.error.stack });
    }
    return reply.result ?? { written: [], unchanged: [], removed: [] };
  }
}

/** A batch is posted after this many characters or files (fewer messages, steady progress). */
const BATCH_CHARS = 1 << 20;
const BATCH_FILES = 512;
/** The renderer waits while the worker has this many characters left to write (bounds memory). */
const IN_FLIGHT_CHARS = 32 << 20;

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

/** removeDeadTemps deletes temp files in `dir` that a killed render (a process now gone) left. */
function removeDeadTemps(dir: string): void {
  for (const name of namesIn(dir)) {
    const m = /^\..+\.mxproxy-tmp-([0-9]+)$/.exec(name);
    if (m && dead(Number(m[1]))) unlinkSync(join(dir, name));
  }
}

/** removeDeadStages deletes the stage folders that killed renders left in `outDir`. */
function removeDeadStages(outDir: string): void {
  for (const name of namesIn(outDir)) {
    const m = /^\.mxproxy-stage-([0-9]+)$/.exec(name);
    // Our own pid here is a killed render's whose pid was reused: ours is not made yet.
    if (m && (Number(m[1]) === process.pid || dead(Number(m[1])))) rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // not there yet: nothing to clean
  }
}

/** dead says whether no process has this pid (not ours: ours is running). */
function dead(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "EPERM";
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
