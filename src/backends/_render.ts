// Stage 4: Plan → files in memory, per backend, plus the well-known documents themselves.
import type { BackendName, Plan, RenderedFile, RenderOptions } from "../types.js";
import { BACKENDS, plugins } from "./_registry.js";

export { BACKENDS };

/** renderPlan renders the chosen backends (all by default) and the well-known documents. */
export function renderPlan(plan: Plan, options: RenderOptions = {}): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const f of renderFiles(plan, options)) {
    // Reading a character flattens the template's rope of pieces into one string, which is
    // cheaper to keep (the garbage collector copies every piece while the file lives).
    f.contents.charCodeAt(0);
    files.push(f);
  }
  return files;
}

/**
 * renderFiles yields what renderPlan returns, one file at a time, in the same order: a writer
 * that takes each file as it comes (writeOutput) never holds every rendered file at once.
 */
export function* renderFiles(plan: Plan, options: RenderOptions = {}): Generator<RenderedFile> {
  yield* backendFiles(plan, options);
  yield* documentFiles(plan);
}

/** backendFiles yields the chosen backends' files (renderFiles without the documents). */
export function* backendFiles(plan: Plan, options: RenderOptions = {}): Generator<RenderedFile> {
  for (const b of plugins(options.backends)) yield* b.render(plan);
}

/** documentFiles yields the well-known documents, `well-known/<server_name>/.well-known/matrix/…`. */
export function* documentFiles(plan: Plan): Generator<RenderedFile> {
  for (const site of plan.sites) {
    for (const doc of site.wellKnown) yield { path: `well-known/${site.serverName}${doc.path}`, backend: "well-known", contents: doc.body };
  }
}

/** renderBackend renders one backend's files (no well-known documents). */
export function renderBackend(plan: Plan, backend: BackendName): RenderedFile[] {
  return [...plugins([backend])[0]!.render(plan)];
}
