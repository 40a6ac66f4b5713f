// Stage 1: text → plain value plus the position of every node. The `yaml` package is used rather
// than js-yaml because it keeps a source range on every node, which is what lets every later
// error name the line and column of the offending key or value.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from "yaml";
import type { Diagnostic, LoadedSite, Position } from "../types.js";
import { joinPath } from "./_diagnostics.js";
import { readSimpleYaml } from "./_yaml-fast.js";

/** Inputs larger than this are refused before parsing (a site file is a few KB per site). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Aliases allowed per document: enough for real anchors, far too few for an alias bomb. */
const MAX_ALIASES = 1000;

/** loadSite parses YAML text (already read from `file`) and records node positions. */
export function loadSite(file: string, text: string): LoadedSite {
  const positions: LoadedSite["positions"] = new Map();
  const problem = (line: number, column: number, message: string): LoadedSite => ({
    file,
    value: undefined,
    positions,
    diagnostics: [{ file, line, column, path: "", message, severity: "error" }],
  });
  if (text.length > MAX_INPUT_BYTES) return problem(1, 1, `the file is larger than ${MAX_INPUT_BYTES / 1048576} MiB (a site file is a few KB per site)`);
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const at = positionOf(text, nul);
    return problem(at.line, at.column, "the file contains a NUL byte: it is binary, not a YAML text file");
  }
  if (text.trim() === "") return problem(1, 1, "the file is empty (expected a YAML mapping with version: 1 and sites:)");

  // Plain block-style files (nearly all) are read by the fast reader; their positions are only
  // needed for a message, so `yaml` computes them when the first one is asked for.
  const simple = readSimpleYaml(text);
  if (simple) return { file, value: simple.value, positions: new LazyPositions(text), diagnostics: [] };

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: false });
  const diagnostics: Diagnostic[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lineCounter.linePos(openingQuote(text, e.message, e.pos[0]));
    return { file, line: pos.line, column: pos.col, path: "", message: yamlMessage(e.message), severity: "error" };
  });
  if (diagnostics.length > 0) return { file, value: undefined, positions, diagnostics };

  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.contents) walk(doc.contents, "", at, positions);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    // Point at the first alias: the expansion of aliases is what ran over the limit.
    let first: Position = { line: 1, column: 1 };
    visit(doc, { Alias: (_, node) => ((first = node.range ? at(node.range[0]) : first), visit.BREAK) });
    return problem(first.line, first.column, `${(e as Error).message} (aliases are limited to ${MAX_ALIASES} expansions)`);
  }
  return { file, value, positions, diagnostics };
}

// --- internal ---

/**
 * The positions of a file the fast reader read, filled by `yaml` on first use of any Map method
 * (structuredClone and util.inspect read a Map's entries without them: they see it empty).
 */
class LazyPositions extends Map<string, NodePosition> {
  #text: string | undefined;

  constructor(text: string) {
    super();
    this.#text = text;
  }

  #fill(): void {
    const text = this.#text;
    if (text === undefined) return;
    this.#text = undefined;
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: false });
    const at = (offset: number): Position => {
      const p = lineCounter.linePos(offset);
      return { line: p.line, column: p.col };
    };
    if (doc.contents) walk(doc.contents, "", at, this);
  }

  override get(key: string): NodePosition | undefined {
    this.#fill();
    return super.get(key);
  }
  override has(key: string): boolean {
    this.#fill();
    return super.has(key);
  }
  override get size(): number {
    this.#fill();
    return super.size;
  }
  override set(key: string, value: NodePosition): this {
    this.#fill();
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.#fill();
    return super.delete(key);
  }
  override clear(): void {
    this.#text = undefined;
    super.clear();
  }
  override forEach(fn: (value: NodePosition, key: string, map: Map<string, NodePosition>) => void, thisArg?: unknown): void {
    this.#fill();
    super.forEach(fn, thisArg);
  }
  override entries(): MapIterator<[string, NodePosition]> {
    this.#fill();
    return super.entries();
  }
  override keys(): MapIterator<string> {
    this.#fill();
    return super.keys();
  }
  override values(): MapIterator<NodePosition> {
    this.#fill();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, NodePosition]> {
    this.#fill();
    return super[Symbol.iterator]();
  }
}

type NodePosition = LoadedSite["positions"] extends Map<string, infer V> ? V : never;

function walk(node: Node, path: string, at: (offset: number) => Position, out: LoadedSite["positions"]): void {
  const range = node.range;
  if (range) out.set(path, { ...out.get(path), value: at(range[0]) });
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const child = joinPath(path, key);
      const keyPos = keyNode?.range ? at(keyNode.range[0]) : undefined;
      const valueNode = pair.value as Node | null;
      if (valueNode && valueNode.range) {
        out.set(child, { key: keyPos, value: at(valueNode.range[0]) });
        walk(valueNode, child, at, out);
      } else if (keyPos) {
        out.set(child, { key: keyPos, value: keyPos });
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && (item as Node).range) walk(item as Node, joinPath(path, i), at, out);
    });
  }
}

/** openingQuote moves an unclosed-quote error (reported at the end of input) to where the quote opens. */
function openingQuote(text: string, message: string, offset: number): number {
  const m = /Missing closing (["'])quote/.exec(message);
  if (!m) return offset;
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    if (text[i] === m[1] && (i === 0 || /[\s:\-\[{,]/.test(text[i - 1]!))) return i;
  }
  return offset;
}

/** yamlMessage keeps the first sentence of a `yaml` error, without its "at line" suffix. */
function yamlMessage(message: string): string {
  const first = message.split("\n")[0] ?? message;
  return "YAML syntax: " + first.replace(/ at line \d+, column \d+:?$/, "");
}

function positionOf(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
