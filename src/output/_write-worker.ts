// A write thread (see ThreadSink in src/_write.ts): a Writer for its share of the files, which
// checks and writes them as batches arrive, and answers `prepare` (what it did, for the main
// thread to commit), `abort` (undo) and `close`. scripts/build.mjs bundles this file alone and
// passes its code to the main bundles, which start it with `eval: true`.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { Writer, type Reply } from "./_write.js";

type Message = { batch: (string | number)[]; chars: number } | { prepare: true } | { abort: true } | { close: true };

const { outDir, share, shared, replies } = workerData as { outDir: string; share: string; shared: Int32Array; replies: MessagePort };
let writer: Writer | undefined;
let failure: unknown;
try {
  writer = new Writer(outDir, share);
} catch (e) {
  fail(e);
}

parentPort!.on("message", (m: Message) => {
  if ("batch" in m) {
    if (failure === undefined) {
      try {
        const b = m.batch;
        for (let i = 0; i < b.length; i += 3) writer!.add(b[i] as string, b[i + 1] as string, b[i + 2] === 1);
      } catch (e) {
        fail(e);
      }
    }
    Atomics.sub(shared, 0, m.chars);
    Atomics.notify(shared, 0);
    return;
  }
  let reply: Reply = {};
  if ("prepare" in m) reply = failure === undefined ? { prepared: writer!.prepared() } : { error: serialise(failure) };
  else if ("abort" in m) writer?.abort();
  replies.postMessage(reply);
  if (!("prepare" in m)) {
    replies.close();
    parentPort!.close();
  }
  Atomics.store(shared, 2, 1);
  Atomics.notify(shared, 2);
});

function fail(e: unknown): void {
  failure = e;
  writer?.abort();
  Atomics.store(shared, 1, 1);
}

function serialise(e: unknown): NonNullable<Reply["error"]> {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack };
}
