// Stage 5: rendered files → disk, atomically and without touching anything that is not ours.
// Which files are ours is recorded in OUT/.mxproxy-manifest.json (old and new files claimed
// before anything is renamed into place, the final list written last).
//
// Nothing is visible before everything is ready. A file whose folder (nginx/, apache/, caddy/,
// traefik/, well-known/) already exists is written to a temp file beside it; a folder that does
// not exist yet is built whole in OUT/.mxproxy-stage-PID[-N]/ (one file creation per file, no
// temp names, no per-file rename). Only when every file is written are the temp files and the
// staged folders renamed into place. A render killed midway leaves temp files or a stage folder,
// which the next render removes once their process is gone.
//
// Big renders write on worker threads (src/_write-worker.ts) while the main thread renders:
// the file system calls are half the work for 10,000 sites (BENCH.md). Each thread runs a Writer
// for some top-level folders; the main thread streams files to them, then commits every
// thread's share at once (finishWrite).
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { RenderedFile } from "../types.js";

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
   * Write on worker threads while `files` is still being produced (an iterable that renders
   * lazily, like renderFiles). Default: only for arrays of at least 400 files.
   */
  thread?: boolean;
}

/** Set by scripts/build.mjs: the worker's code (src/_write-worker.ts, bundled). */
declare const MXPROXY_WRITE_WORKER: string | undefined;

/** writeOutput writes `files` under `outDir`: every target checked, all written, then renamed in. */
export function writeOutput(outDir: string, files: Iterable<RenderedFile>, options: WriteOptions = {}): WriteResult {
  // MXPROXY_WRITE_THREADS=0 writes in this thread, =N on N worker threads (tests use both).
  const forced = process.env.MXPROXY_WRITE_THREADS;
  const threads = forced ? Number(forced) : (options.thread ?? (Array.isArray(files) && files.length >= 400)) ? writeThreads() : 0;
  // Without the build's worker code (running from src/ under tsx) every write is in this thread.
  const sink: Sink = threads > 0 && typeof MXPROXY_WRITE_WORKER === "string" ? new ThreadSink(outDir, MXPROXY_WRITE_WORKER, threads) : new Writer(outDir);
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

/** What a Writer did before the commit: finishWrite moves it into place. */
export interface Prepared {
  paths: string[];
  written: string[];
  unchanged: string[];
  /** Temp file → target. */
  temps: [string, string][];
  /** The stage folder, if one was made, and the top-level folders built in it. */
  stage: string | null;
  staged: string[];
}

/**
 * Writer does one write, or its share of one: add() every file (checked, then written to a temp
 * file or to the stage), then commit() (manifest, renames, stale files), or prepared() for
 * finishWrite to commit several Writers' shares at once, or abort() (temps and stage removed).
 */
export class Writer implements Sink {
  private readonly previous: Set<string>;
  private readonly stage: string;
  private readonly done: Prepared = { paths: [], written: [], unchanged: [], temps: [], stage: null, staged: [] };
  /** Top-level folder → whether it is built in the stage (it did not exist). */
  private readonly staged = new Map<string, boolean>();
  /** Folders checked by probe(): true a folder, false absent. */
  private readonly folders = new Map<string, boolean>();
  /** Folders this write made (or found) in the stage or beside the targets. */
  private readonly made = new Set<string>();
  /** The file being written in parts: open in the stage, or its parts so far. */
  private part: { path: string; fd?: number; pieces: string[] } | undefined;
  /** Folders made outside the stage, parents first (abort removes them). */
  private readonly madeOutside: string[] = [];

  /** `share` names this Writer's stage when several write one render (one per thread). */
  constructor(
    private readonly outDir: string,
    share = "",
  ) {
    this.previous = readManifest(outDir);
    this.stage = join(outDir, `.mxproxy-stage-${process.pid}${share}`);
    removeDeadStages(outDir);
  }

  /**
   * add writes one file; a big file may come in parts (`more`: parts of it follow), each part
   * written as it comes where the file is new, so neither thread holds the whole file twice.
   */
  add(path: string, contents: string, more = false): void {
    if (more || this.part !== undefined) return this.addPart(path, contents, more);
    const done = this.done;
    done.paths.push(path);
    if (this.inStage(path)) {
      this.create(join(this.stage, path), contents);
      done.written.push(path);
      return;
    }
    const target = join(this.outDir, path);
    const current = probe(this.outDir, path, this.folders) ? readFileSync(target, "utf8") : undefined;
    if (current === contents) {
      done.unchanged.push(path);
      return;
    }
    if (current !== undefined && !this.previous.has(path)) {
      throw new OutputError(`${target} exists and was not written by mxproxy (move it away or choose another --out); nothing was written`);
    }
    const dir = dirname(target);
    if (!this.made.has(dir)) {
      this.mkdir(dir);
      removeDeadTemps(dir);
    }
    const tmp = join(dir, `.${target.slice(dir.length + 1)}.mxproxy-tmp-${process.pid}`);
    this.create(tmp, contents, target);
    done.temps.push([tmp, target]);
    done.written.push(path);
  }

  private addPart(path: string, piece: string, more: boolean): void {
    const target = join(this.outDir, path);
    let part = this.part;
    if (part === undefined) {
      part = this.part = { path, pieces: [] };
      if (this.inStage(path)) {
        const file = join(this.stage, path);
        part.fd = this.guard(target, () => {
          this.mkdir(dirname(file));
          return openSync(file, "w", 0o644);
        });
      }
    }
    if (part.path !== path) throw new Error(`internal: part of ${path} while ${part.path} is unfinished`);
    if (part.fd !== undefined) this.guard(target, () => writeSync(part.fd!, piece));
    else part.pieces.push(piece);
    if (more) return;
    this.part = undefined;
    if (part.fd === undefined) return this.add(path, part.pieces.join(""));
    this.guard(target, () => closeSync(part.fd!));
    this.done.paths.push(path);
    this.done.written.push(path);
  }

  /** inStage says whether `path` goes to the stage (its top-level folder did not exist), making it. */
  private inStage(path: string): boolean {
    const top = topFolder(path);
    let staged = this.staged.get(top);
    if (staged === undefined) {
      staged = top !== "" && lstatOrUndefined(join(this.outDir, top)) === undefined;
      this.staged.set(top, staged);
      if (staged) {
        if (this.done.stage === null) this.makeStage();
        this.done.staged.push(top);
      }
    }
    return staged;
  }

  /** guard runs file system calls for `target` (named in the message), undoing everything if they fail. */
  private guard<T>(target: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.abort();
      throw writeError(target, e);
    }
  }

  prepared(): Prepared {
    return this.done;
  }

  commit(): WriteResult {
    return finishWrite(this.outDir, this.previous, [this.done]);
  }

  abort(): void {
    if (this.part?.fd !== undefined) closeSync(this.part.fd);
    this.part = undefined;
    for (const [tmp] of this.done.temps) rmSync(tmp, { force: true });
    if (this.done.stage !== null) rmSync(this.stage, { recursive: true, force: true });
    for (const dir of this.madeOutside.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty (another writer's files) or gone: leave it
      }
    }
    this.madeOutside.length = 0;
  }

  private makeStage(): void {
    this.mkdir(this.outDir);
    // A stage of this name is a killed render's whose pid was reused: ours does not exist yet.
    rmSync(this.stage, { recursive: true, force: true });
    this.mkdir(this.stage);
    this.done.stage = this.stage;
  }

  /** create writes a new file (`target` names it in messages). */
  private create(path: string, contents: string, target = path): void {
    this.guard(this.shown(target), () => createFile(path, contents, this.made, (dir) => this.mkdir(dir)));
  }

  /** mkdir makes `dir` and its missing parents, once per write (abort removes those made outside the stage). */
  private mkdir(dir: string): void {
    if (this.made.has(dir)) return;
    if (dir.startsWith(this.stage + sep)) {
      this.mkdir(dirname(dir)); // nothing exists in the stage yet: no need to look first
    } else if (dir !== this.stage) {
      const st = statSync(dir, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        this.made.add(dir);
        return;
      }
      if (st === undefined && dirname(dir) !== dir) this.mkdir(dirname(dir));
    }
    try {
      mkdirSync(dir);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // Another thread of this write made it meanwhile (both needed the output folder).
      if (err.code === "EEXIST" && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        this.made.add(dir);
        return;
      }
      throw new OutputError(`cannot make ${dir === this.stage ? `a folder in ${this.outDir}` : `the folder ${this.shown(dir)}`}: ${reason(err)}; nothing was changed`);
    }
    if (!dir.startsWith(this.stage)) this.madeOutside.push(dir);
    this.made.add(dir);
  }

  /** shown names a path in the stage by where it is going. */
  private shown(path: string): string {
    return path.startsWith(this.stage + sep) ? join(this.outDir, path.slice(this.stage.length + 1)) : path;
  }
}

/**
 * finishWrite commits the shares of one write: claims every file in the manifest, renames the
 * temp files and staged folders into place, removes stale files, writes the final manifest.
 */
export function finishWrite(outDir: string, previous: Set<string>, shares: Prepared[]): WriteResult {
  const paths = shares.flatMap((s) => s.paths);
  const result: WriteResult = { written: shares.flatMap((s) => s.written), unchanged: shares.flatMap((s) => s.unchanged), removed: [] };
  const rendered = new Set(paths);
  const stale = [...previous].filter((p) => !rendered.has(p) && probe(outDir, p));
  // Claim every file (old and new) before any is renamed in: a render killed midway leaves
  // files the next render still knows as its own.
  const final = manifest(paths);
  const claim = paths.some((p) => !previous.has(p)) ? manifest([...previous, ...paths]) : undefined;
  if (claim !== undefined) writeManifest(outDir, claim);
  try {
    for (const share of shares) {
      for (const [tmp, target] of share.temps) renameSync(tmp, target);
      for (const top of share.staged) renameSync(join(share.stage!, top), join(outDir, top));
      if (share.stage !== null) rmSync(share.stage, { recursive: true, force: true });
    }
  } catch (e) {
    throw new OutputError(`cannot move the new files into ${outDir}: ${(e as Error).message}`);
  }
  for (const p of stale) {
    unlinkSync(join(outDir, p));
    result.removed.push(p);
  }
  // The claim is the final list when no file of the previous render went.
  if (claim !== final && (claim !== undefined || readIfFile(outDir, MANIFEST) !== final)) writeManifest(outDir, final);
  return result;
}

// --- internal ---

function manifest(paths: Iterable<string>): string {
  return JSON.stringify({ generator: "mxproxy", files: [...new Set(paths)].sort() }, null, 2) + "\n";
}

/** writeManifest writes OUT/.mxproxy-manifest.json through a temp file and a rename. */
function writeManifest(outDir: string, text: string): void {
  const target = join(outDir, MANIFEST);
  const tmp = join(outDir, `.${MANIFEST}.mxproxy-tmp-${process.pid}`);
  try {
    createFile(tmp, text, new Set(), (dir) => mkdirSync(dir, { recursive: true }));
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(target, e);
  }
}

/** createFile writes a new file, making its folder first (with `mkdir`) unless `made` has it. */
function createFile(path: string, contents: string, made: Set<string>, mkdir: (dir: string) => void): void {
  const dir = dirname(path);
  if (!made.has(dir)) mkdir(dir);
  const fd = openSync(path, "w", 0o644);
  try {
    // No fsync: rename is atomic against a killed process, which is the case we promise. Big
    // files go in slices: writeSync converts a whole string to bytes first.
    for (const piece of slices(contents)) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}

function writeError(target: string, e: unknown): OutputError {
  return e instanceof OutputError ? e : new OutputError(`cannot write ${target}: ${reason(e as NodeJS.ErrnoException)}; nothing was changed`);
}

/** reason words a file system error for a message (EEXIST: a file where a folder was to be made). */
function reason(err: NodeJS.ErrnoException): string {
  if (err.code === "EACCES" || err.code === "EPERM") return "permission denied";
  if (err.code === "ENOTDIR" || err.code === "EEXIST") return "a file stands where a folder is needed";
  return err.message;
}

/** topFolder is the first part of an output path (`nginx` of `nginx/x.conf`), "" for none. */
function topFolder(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** slices cuts a big text into pieces of at most BATCH_CHARS characters, never inside a surrogate pair. */
function* slices(s: string): Generator<string> {
  if (s.length <= BATCH_CHARS) {
    yield s;
    return;
  }
  for (let from = 0; from < s.length; ) {
    let to = Math.min(from + BATCH_CHARS, s.length);
    const last = s.charCodeAt(to - 1);
    if (to < s.length && last >= 0xd800 && last <= 0xdbff) to--; // a high surrogate: keep the pair together
    yield s.slice(from, to);
    from = to;
  }
}

/**
 * ThreadSink spreads a write over worker threads, each running a Writer for some of the
 * top-level folders (a folder's files all go to one thread, so its stage is that thread's).
 * Files go in batches; the main thread blocks (Atomics.wait) only while a thread has too much
 * in flight (bounded memory) and at the end, when it commits every thread's share at once.
 */
class ThreadSink implements Sink {
  private readonly threads: Thread[] = [];
  private readonly route = new Map<string, Thread>();
  private readonly receive: typeof import("node:worker_threads").receiveMessageOnPort;

  constructor(
    private readonly outDir: string,
    code: string,
    count: number,
  ) {
    // Loaded here, not at the top: most renders are small and never start a thread.
    const { Worker, MessageChannel, receiveMessageOnPort } = process.getBuiltinModule("node:worker_threads");
    this.receive = receiveMessageOnPort;
    for (let k = 0; k < count; k++) {
      const { port1, port2 } = new MessageChannel();
      const shared = new Int32Array(new SharedArrayBuffer(12));
      // A small young generation: the thread's garbage is short-lived strings, and the default
      // (tens of MB per thread) showed in the peak RSS of big renders (BENCH.md: ≈30 MB less).
      const worker = new Worker(code, { eval: true, workerData: { outDir, share: `-${k}`, shared, replies: port2 }, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.unref();
      this.threads.push({ worker, replies: port1, shared, batch: [], chars: 0, cost: 0, open: true });
    }
  }

  add(path: string, contents: string): void {
    const top = topFolder(path);
    let t = this.route.get(top);
    // A new folder goes to the thread with the least work so far (a file costs about as much
    // as 10,000 characters of text: BENCH.md).
    if (t === undefined) this.route.set(top, (t = this.threads.reduce((a, b) => (b.cost < a.cost ? b : a))));
    if (Atomics.load(t.shared, 1) !== 0) return; // failed: the error comes with commit()
    t.cost += contents.length + 10_000;
    // A big file (a Caddyfile or Traefik file for thousands of sites) goes in parts: one copy
    // of it at a time in each thread, not a whole copy per step of the way.
    let sent = 0;
    for (const piece of slices(contents)) {
      sent += piece.length;
      t.batch.push(path, piece, sent < contents.length ? 1 : 0);
      t.chars += piece.length;
      if (t.chars >= BATCH_CHARS || t.batch.length >= 3 * BATCH_FILES) this.flush(t);
    }
  }

  commit(): WriteResult {
    const replies = this.threads.map((t) => this.ask(t, "prepare"));
    const failed = replies.find((r) => r.error);
    if (failed) {
      for (const t of this.threads) this.ask(t, "abort");
      throw revive(failed.error!);
    }
    try {
      return finishWrite(this.outDir, readManifest(this.outDir), replies.map((r) => r.prepared!));
    } finally {
      for (const t of this.threads) this.ask(t, "close");
    }
  }

  abort(): void {
    for (const t of this.threads) {
      try {
        this.ask(t, "abort");
      } catch {
        // The thread's own failure, if any, is not the error being reported.
      }
    }
  }

  private flush(t: Thread): void {
    if (t.batch.length === 0) return;
    Atomics.add(t.shared, 0, t.chars);
    t.worker.postMessage({ batch: t.batch, chars: t.chars });
    t.batch = [];
    t.chars = 0;
    const limit = IN_FLIGHT_CHARS / this.threads.length;
    for (let n = Atomics.load(t.shared, 0); n > limit; n = Atomics.load(t.shared, 0)) waitFor(t, 0, n);
  }

  /** ask sends what is left of `t`'s batch and a request, and waits for the answer. */
  private ask(t: Thread, what: "prepare" | "abort" | "close"): Reply {
    if (!t.open) return {};
    this.flush(t);
    t.open = what === "prepare";
    Atomics.store(t.shared, 2, 0);
    t.worker.postMessage({ [what]: true });
    while (Atomics.load(t.shared, 2) === 0) waitFor(t, 2, 0);
    return this.receive(t.replies)!.message as Reply;
  }
}

/**
 * waitFor waits while `t.shared[slot]` is `value`. A thread that makes no progress for a minute
 * (it cannot, short of a crash of the thread itself) is an error, not a hang: the main thread
 * cannot see a thread end while it waits.
 */
function waitFor(t: Thread, slot: number, value: number): void {
  const progress = Atomics.load(t.shared, 0);
  for (let waited = 0; Atomics.load(t.shared, slot) === value; waited += 1) {
    if (Atomics.wait(t.shared, slot, value, 1000) !== "timed-out") return;
    if (Atomics.load(t.shared, 0) !== progress) return;
    if (waited >= 60) throw new OutputError(`a write thread stopped answering for a minute; nothing was changed in the output folder (temp files it left are removed by the next render)`);
  }
}

/** A worker thread of a ThreadSink; `shared`: [0] characters in flight, [1] failed, [2] answered. */
interface Thread {
  worker: import("node:worker_threads").Worker;
  replies: import("node:worker_threads").MessagePort;
  shared: Int32Array;
  /** path, contents, 1 when more parts of the file follow (else 0), … */
  batch: (string | number)[];
  chars: number;
  cost: number;
  /** Until it was asked to abort or close (then its thread ends). */
  open: boolean;
}

/** A worker's answer (src/_write-worker.ts). */
export interface Reply {
  prepared?: Prepared;
  error?: { name: string; message: string; stack?: string };
}

function revive(error: NonNullable<Reply["error"]>): Error {
  if (error.name === "OutputError") return new OutputError(error.message);
  return Object.assign(new Error(error.message), { stack: error.stack });
}

/**
 * How many threads write: the file system calls of 10,000 sites cost as much as rendering them.
 * Two, or one on a single core. On two cores two threads beat one (and one beat none) although
 * the three then share the cores: 10,000 sites in 2.47 s vs 2.74 s (one) and 2.99 s (none),
 * medians of 5 interleaved runs (BENCH.md).
 */
function writeThreads(): number {
  return Math.min(2, process.getBuiltinModule("node:os").availableParallelism());
}

/**
 * A batch is posted after this many characters or files. Small enough that a file rarely waits
 * through a young-generation GC in it (the GC would copy its rope of pieces: 1 MiB batches were
 * ≈4 % slower), big enough that messages stay few.
 */
const BATCH_CHARS = 1 << 17;
const BATCH_FILES = 512;
/** The renderer waits while the threads have this many characters left to write (bounds memory). */
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
    const m = /^\.mxproxy-stage-([0-9]+)(?:-[0-9]+)?$/.exec(name);
    if (m && dead(Number(m[1]))) rmSync(join(outDir, name), { recursive: true, force: true });
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
