import { moduleFile } from "../core/internal.js";
import { fileURLToPath } from "node:url";
import type { Frame } from "./model.js";

/** The folders of timebound's library layers; frames there are timebound's own, not the caller's. */
const LIBRARY_LAYERS = ["core", "sync", "io", "resilience", "fanout", "diagnostics"];

function toPath(file: string): string {
  if (!file.startsWith("file://")) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return file;
  }
}

/** @internal Whether a frame is in one of timebound's library layers. */
export function isOwnFrame(frame: Frame): boolean {
  return ownPrefixes.some((prefix) => frame.file.startsWith(prefix));
}

// Node's own machinery (timers, diagnostics_channel, the module loader, undici's WebAssembly
// parser) says nothing about who created a context, and it differs between runs.
function isRuntimeFrame(frame: Frame): boolean {
  return frame.file.startsWith("node:") || frame.file.startsWith("wasm://");
}

const LOCATION = /^(.*):(\d+):(\d+)$/;

/** @internal Parses one `    at …` line of a V8 stack; undefined for lines that are not frames. */
export function parseFrame(line: string): Frame | undefined {
  const text = line.trim();
  if (!text.startsWith("at ")) return undefined;
  let body = text.slice(3);
  if (body.startsWith("async ")) body = body.slice(6);
  let functionName = "";
  let location = body;
  // "fn (location)"; the location may itself contain parentheses (eval frames), so match the
  // last balanced group at the end.
  if (body.endsWith(")")) {
    let depth = 0;
    for (let i = body.length - 1; i >= 0; i--) {
      const ch = body[i];
      if (ch === ")") depth++;
      else if (ch === "(" && --depth === 0) {
        functionName = body.slice(0, i).trim();
        location = body.slice(i + 1, -1);
        break;
      }
    }
  }
  if (location.startsWith("wasm://")) return { functionName, file: location, line: 0, column: 0 };
  const m = LOCATION.exec(location);
  if (m === null) {
    // "<anonymous>", "native", or an eval location: keep the name, no file.
    return { functionName: functionName || location, file: "", line: 0, column: 0 };
  }
  return {
    functionName: functionName.replace(/ \[as [^\]]+\]$/, ""),
    file: toPath(m[1]!),
    line: Number(m[2]),
    column: Number(m[3]),
  };
}

/** The root of a file in this build's diagnostics folder (`…/src/`, `…/dist/esm/`). */
function rootOf(file: string | undefined): string | undefined {
  if (file === undefined || file === "") return undefined;
  return toPath(file).replace(/diagnostics[\\/][^\\/]+$/, "");
}

/** Where this build of timebound runs from (`…/dist/esm/`, or `…/src/` under tsx). */
const runtimeRoot = rootOf(moduleFile());

/**
 * Where stack strings say it is: the same, unless source maps are on (`--enable-source-maps`),
 * where frames name the `src/` files the maps point at. Both count as timebound's own.
 */
const stackRoot = rootOf(parseFrame(new Error().stack?.split("\n")[1] ?? "")?.file);

/**
 * @internal The folder holding this build's diagnostics modules (`…/dist/esm/diagnostics`, or
 * `…/src/diagnostics` under tsx), for starting a child process with the same build's preload.
 */
export function diagnosticsDir(): string {
  if (runtimeRoot === undefined)
    throw new Error("timebound: cannot tell where diagnostics is installed");
  return `${runtimeRoot}diagnostics`;
}

/** Roots whose library layers count as own: this build, and its ESM/CJS twin. */
const ownPrefixes: readonly string[] = ((): string[] => {
  const roots = new Set<string>();
  for (const root of [runtimeRoot, stackRoot]) {
    if (root === undefined) continue;
    roots.add(root);
    roots.add(
      root.replace(/([\\/]dist[\\/])(esm|cjs)([\\/])$/, (_m, a: string, b, c: string) =>
        b === "esm" ? `${a}cjs${c}` : `${a}esm${c}`,
      ),
    );
  }
  return [...roots].flatMap((root) => LIBRARY_LAYERS.map((layer) => `${root}${layer}`));
})();

/** A parsed stack: the caller's frames, and whether timebound's own frames were removed. */
export interface ParsedStack {
  /** Innermost first, without timebound's leading frames and without runtime frames. */
  readonly frames: readonly Frame[];
  /** True when the innermost frames were timebound's own (a timer armed by the core, say). */
  readonly internal: boolean;
  /**
   * The layer of timebound the program called into ("core", "sync", "io"...): that of the last of
   * the leading frames dropped. A context made by the program itself says "core"; one made by an
   * adapter or a policy on the program's behalf says that layer. Undefined when none was dropped.
   */
  readonly calledLayer?: string | undefined;
  /** Identity of the stack, for grouping: equal keys, equal frames. */
  readonly key: string;
}

/**
 * Parses a V8 stack string into frames, innermost first, dropping the leading frames that are
 * timebound's own (the `withCancel` that made the context is not news) and Node's internals.
 *
 * @example
 * ```ts
 * parseStack(new Error().stack ?? "").frames[0]?.functionName;
 * ```
 */
export function parseStack(text: string): ParsedStack {
  const frames: Frame[] = [];
  let leading = true;
  let internal = false;
  let calledLayer: string | undefined;
  // Frames without a file (`new Promise`, `Array.map`) among the leading own frames were called
  // by timebound, so they go with them; before the caller's first frame they stay.
  let pending: Frame[] = [];
  for (const line of text.split("\n")) {
    const frame = parseFrame(line);
    if (frame === undefined || isRuntimeFrame(frame)) continue;
    if (leading) {
      if (isOwnFrame(frame)) {
        internal = true;
        calledLayer = layerOf(frame);
        pending = [];
        continue;
      }
      if (frame.file === "") {
        pending.push(frame);
        continue;
      }
      leading = false;
      frames.push(...pending);
    }
    frames.push(frame);
  }
  if (leading) frames.push(...pending);
  return { frames, internal, calledLayer, key: stackKey(frames) };
}

function layerOf(frame: Frame): string | undefined {
  const prefix = ownPrefixes.find((p) => frame.file.startsWith(p));
  return prefix === undefined ? undefined : LIBRARY_LAYERS.find((layer) => prefix.endsWith(layer));
}

/**
 * @internal Whether the program made the thing this stack was captured for: not timebound itself (a
 * deadline timer ends with its context) and not Node's internals alone (undici's timers inside a
 * fetch have no frame of the program).
 */
export function madeByProgram(parsed: ParsedStack): boolean {
  return !parsed.internal && parsed.frames.length > 0;
}

/** @internal A string that identifies a list of frames. */
export function stackKey(frames: readonly Frame[]): string {
  let key = "";
  for (const f of frames) key += `${f.functionName}@${f.file}:${f.line}:${f.column}\n`;
  return key;
}

/**
 * `fn (file:line:col)`, or just the location for anonymous frames.
 *
 * @example
 * ```ts
 * const frame = tracking.findings()[0]?.stack[0];
 * if (frame) console.log(formatFrame(frame)); // "startWorker (/app/worker.js:7:15)"
 * ```
 */
export function formatFrame(frame: Frame): string {
  const where = frame.file === "" ? "" : `${frame.file}:${frame.line}:${frame.column}`;
  if (frame.functionName === "") return where;
  return where === "" ? frame.functionName : `${frame.functionName} (${where})`;
}

/** Parsed stacks by text: many contexts share one creation site, so each text is parsed once. */
const parsed = new Map<string, ParsedStack>();
const MAX_CACHED = 20_000;
const EMPTY: ParsedStack = { frames: [], internal: false, key: "" };

/**
 * @internal Parses `text`, reusing the result for a text seen before. With `keep`, at most that
 * many of the caller's frames are kept (timebound's leading frames, dropped, do not count).
 */
export function parseCached(text: string | undefined, keep = Infinity): ParsedStack {
  if (text === undefined || text === "") return EMPTY;
  const cacheKey = keep === Infinity ? text : `${keep}\n${text}`;
  let p = parsed.get(cacheKey);
  if (p === undefined) {
    if (parsed.size >= MAX_CACHED) parsed.clear();
    p = parseStack(text);
    if (p.frames.length > keep) {
      const frames = p.frames.slice(0, keep);
      p = { frames, internal: p.internal, calledLayer: p.calledLayer, key: stackKey(frames) };
    }
    parsed.set(cacheKey, p);
  }
  return p;
}

/** @internal What `Error.captureStackTrace` fills in: V8 formats `stack` only when it is first read. */
export interface StackHolder {
  stack?: string;
}

/**
 * How many frames of timebound's own a capture allows for between where it starts and the
 * program's first frame (a primitive's helpers, the core's watch, a context's timer). They are
 * found by file and dropped ({@link parseStack}), not counted: this only bounds the extra frames
 * V8 collects so that the program keeps as many as `Error.stackTraceLimit` promises.
 */
const OWN_FRAMES_ALLOWANCE = 16;

/**
 * @internal A stack captured now and parsed only if someone looks at it: most tracked things end
 * unnoticed, and formatting a V8 stack costs more than capturing it.
 */
export class StackRef {
  #holder: StackHolder | undefined;
  #result: ParsedStack | undefined;
  /** How many of the program's frames to keep: `Error.stackTraceLimit` at capture. */
  readonly #keep: number;

  constructor(holder: StackHolder | undefined, keep = Infinity) {
    this.#holder = holder;
    this.#keep = keep;
  }

  /** No stack: the thing was not sampled. */
  static readonly NONE = new StackRef(undefined);

  /**
   * Captures the current stack, leaving out `below` and everything above it (all of it, if
   * `below` is not on the stack). timebound's own frames at the top of what remains, however
   * many there are, are dropped when it is parsed, and the program keeps as many frames as
   * `Error.stackTraceLimit` promises.
   */
  static capture(below?: (...args: never[]) => unknown): StackRef {
    const holder: StackHolder = {};
    const limit = Error.stackTraceLimit;
    const room = typeof limit === "number" && limit !== Infinity;
    if (room) Error.stackTraceLimit = limit + OWN_FRAMES_ALLOWANCE;
    try {
      Error.captureStackTrace(holder, below);
    } finally {
      Error.stackTraceLimit = limit;
    }
    return new StackRef(holder, room ? limit : Infinity);
  }

  get parsed(): ParsedStack {
    if (this.#result === undefined) {
      this.#result = parseCached(this.#holder?.stack, this.#keep);
      this.#holder = undefined; // the formatted string is cached once per site; drop this copy
    }
    return this.#result;
  }

  get frames(): readonly Frame[] {
    return this.parsed.frames;
  }
}
