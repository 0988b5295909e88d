import type { Context, ContextError } from "../../core/index.js";
import { checkContext, describeValue, invalidType } from "../../core/internal.js";
import { pipeline as nodePipeline } from "node:stream/promises";
import { raceContext } from "../race.js";

/**
 * A function stage, as `node:stream/promises` pipeline takes it: it gets the previous stage as an
 * async iterable and returns the next one (an async generator), or, as the last stage, a promise.
 * `signal` aborts when the pipeline fails, also when its context ends.
 *
 * @example
 * ```ts
 * const lines: PipelineFunction = async function* (source, { signal }) {
 *   for await (const chunk of source) yield String(chunk).toUpperCase();
 * };
 * ```
 */
export type PipelineFunction = (
  source: AsyncIterable<unknown>,
  options: { signal: AbortSignal },
) => AsyncIterable<unknown> | Promise<unknown>;

/**
 * One stage of a {@link pipeline}: a Node stream (Readable, Transform, Duplex such as a socket,
 * Writable), a source iterable, or a {@link PipelineFunction}.
 *
 * @example
 * ```ts
 * const stages: PipelineStage[] = [createReadStream(path), createGzip(), socket];
 * await pipeline(ctx, ...stages);
 * ```
 */
export type PipelineStage =
  | NodeJS.ReadableStream
  | NodeJS.WritableStream
  | Iterable<unknown>
  | AsyncIterable<unknown>
  | PipelineFunction;

/** The part of a Node stream that the cancel needs. */
interface Destroyable {
  destroy(error?: Error): unknown;
  readonly destroyed?: boolean;
  listenerCount(event: string): number;
  once(event: string, listener: () => void): unknown;
}

/**
 * `pipeline` of `node:stream/promises`, bound to `ctx`: resolves when the last stage has finished.
 * When `ctx` ends first, every stream of the pipeline is destroyed with `ctx.err` (sockets close,
 * files are released, function stages see their `signal` abort) and the promise rejects with
 * `ctx.err` at once. If `ctx` has already ended, the streams are destroyed and nothing flows.
 * Either way nothing stays registered on `ctx` once it settles.
 *
 * Node's own `pipeline(..., { signal })` destroys the streams with an `AbortError` instead, so the
 * caller cannot tell a deadline from a cancel; here every stream errors with the context's error.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 10_000, { name: "upload" });
 * await pipeline(ctx, createReadStream(path), createGzip(), socket); // DeadlineExceeded, socket closed
 * ```
 */
export function pipeline(ctx: Context, ...stages: PipelineStage[]): Promise<void> {
  try {
    checkContext(ctx, "pipeline");
    if (stages.length < 2) {
      throw invalidType(
        `pipeline: needs a source and a destination (at least 2 stages), got ${stages.length}`,
      );
    }
    stages.forEach(checkStage);
  } catch (bad) {
    return Promise.reject(bad); // a promise API rejects on bad arguments, as Node's do
  }
  const streams: Destroyable[] = [];
  for (const stage of stages) if (isDestroyable(stage)) streams.push(stage);
  const ended = ctx.err;
  if (ended !== undefined) {
    destroyAll(streams, ended);
    return Promise.reject(ended);
  }
  // Without any stream to destroy, only a signal can reach the function stages; with one, the
  // streams' errors carry ctx.err and Node aborts the function stages' signal itself.
  const options = streams.length === 0 ? [{ signal: ctx.signal }] : [];
  const run = nodePipeline as (...args: unknown[]) => Promise<void>;
  return raceContext(
    ctx,
    () => run(...stages, ...options),
    (err) => destroyAll(streams, err),
  );
}

function checkStage(stage: unknown, index: number): void {
  const ok =
    typeof stage === "function" ||
    (typeof stage === "object" &&
      stage !== null &&
      (isDestroyable(stage) || Symbol.asyncIterator in stage || Symbol.iterator in stage));
  if (!ok) {
    throw invalidType(
      `pipeline: stage ${index + 1} must be a stream, an iterable or a function, got ` +
        describeValue(stage),
    );
  }
}

function isDestroyable(stage: unknown): stage is Destroyable {
  return (
    typeof stage === "object" &&
    stage !== null &&
    typeof (stage as Partial<Destroyable>).destroy === "function" &&
    typeof (stage as Partial<Destroyable>).once === "function"
  );
}

function destroyAll(streams: readonly Destroyable[], err: ContextError): void {
  for (const stream of streams) {
    if (stream.destroyed === true) continue;
    // The pipeline listens for errors while it runs; if it has just finished, nobody does, and an
    // 'error' nobody hears would crash the process. The caller gets err from the promise.
    if (stream.listenerCount("error") === 0) stream.once("error", () => {});
    stream.destroy(err);
  }
}
