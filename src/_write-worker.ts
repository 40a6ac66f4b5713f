// The write worker (see src/_write.ts): a Writer on its own thread. scripts/build.mjs bundles this
// file alone and passes its code to the main bundles, which start it with `eval: true`.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { Writer } from "./_write.js";

type Message = { batch: string[]; chars: number } | { commit: true } | { abort: true };

const { outDir, shared, replies } = workerData as { outDir: string; shared: Int32Array; replies: MessagePort };
let writer: Writer | undefined;
let failure: unknown;
try {
  writer = new Writer(outDir);
} catch (e) {
  fail(e);
}

parentPort!.on("message", (m: Message) => {
  if ("batch" in m) {
    if (failure === undefined) {
      try {
        for (let i = 0; i < m.batch.length; i += 2) writer!.add(m.batch[i]!, m.batch[i + 1]!);
      } catch (e) {
        fail(e);
      }
    }
    Atomics.sub(shared, 0, m.chars);
    Atomics.notify(shared, 0);
    return;
  }
  let reply: object = {};
  if (failure !== undefined) reply = { error: serialise(failure) };
  else if ("commit" in m) {
    try {
      reply = { result: writer!.commit() };
    } catch (e) {
      writer!.abort();
      reply = { error: serialise(e) };
    }
  } else writer!.abort();
  replies.postMessage(reply);
  replies.close();
  parentPort!.close();
  Atomics.store(shared, 2, 1);
  Atomics.notify(shared, 2);
});

function fail(e: unknown): void {
  failure = e;
  writer?.abort();
  Atomics.store(shared, 1, 1);
}

function serialise(e: unknown): { name: string; message: string; stack?: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack };
}
