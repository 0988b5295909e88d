import { current } from "../core/index.js";
import { AsyncLocalStorage } from "node:async_hooks";
import { undiciChannels } from "./channels.js";
import { containExceptions } from "./contain.js";
import { type OperationRecord, nodeOf } from "./records.js";
import { StackRef } from "./stacks.js";
import type { Tracker } from "./tracker.js";

type Fetch = typeof globalThis.fetch;

/** An ambient fetch in progress: its operation, its requests on the wire, whether it settled. */
interface FetchRun {
  readonly op: OperationRecord;
  onWire: number;
  seenOnWire: boolean;
  settled: boolean;
  ended: boolean;
}

/**
 * @internal Makes a global `fetch` called inside `run(ctx, …)` an operation of `ctx`, for code that
 * does not use timebound's HTTP client: one still going after `ctx` ended (typically because its
 * signal was never passed) is an ignored cancellation. Calls from timebound's own adapters are left
 * alone: they announce their work themselves. The operation lasts until the response's body has
 * arrived or was cut off (undici's `undici:request:trailers` / `error`, matched to the call through
 * an AsyncLocalStorage); without those channels, until the response headers.
 */
export class AmbientFetchWatch {
  #original: Fetch | undefined;
  #wrapper: Fetch | undefined;
  readonly #runs = new AsyncLocalStorage<FetchRun>();
  readonly #byRequest = new WeakMap<object, FetchRun>();

  readonly #tracker: Tracker;

  constructor(tracker: Tracker) {
    this.#tracker = tracker;
  }

  install(): void {
    const original = globalThis.fetch;
    if (typeof original !== "function" || this.#wrapper !== undefined) return;
    const tracker = this.#tracker;
    const runs = this.#runs;
    const startOp = containExceptions("fetch wrapper", (start: () => void) => start());
    // An operation for a fetch made inside run(ctx, …) by the program (not by timebound).
    const operationFor = (wrapper: Fetch): OperationRecord | undefined => {
      const ambient = current();
      if (ambient === undefined || nodeOf(ambient) === null) return undefined;
      const stack = StackRef.capture(wrapper);
      return stack.parsed.internal ? undefined : tracker.startOperation("fetch", ambient, stack);
    };
    const end = (run: FetchRun): void => {
      if (run.ended || !run.settled || run.onWire > 0) return;
      run.ended = true;
      tracker.endOperation(run.op);
    };
    const wrapper = function fetch(this: unknown, ...args: Parameters<Fetch>): ReturnType<Fetch> {
      let op: OperationRecord | undefined;
      startOp(() => (op = operationFor(wrapper)));
      if (op === undefined) return Reflect.apply(original, this, args);
      const run: FetchRun = { op, onWire: 0, seenOnWire: false, settled: false, ended: false };
      const pending = runs.run<ReturnType<Fetch>>(run, () => Reflect.apply(original, this, args));
      pending.then(
        () => {
          run.settled = true;
          // Not seen on the wire (no undici channels): the headers are all we can follow.
          if (!run.seenOnWire) run.onWire = 0;
          end(run);
        },
        () => {
          run.settled = true;
          run.onWire = 0;
          end(run);
        },
      );
      return pending;
    };
    const onCreate = containExceptions("undici:request:create subscriber", (m: unknown) => {
      const run = runs.getStore();
      const request = (m as { request?: unknown }).request;
      if (run === undefined || typeof request !== "object" || request === null) return;
      run.onWire++;
      run.seenOnWire = true;
      this.#byRequest.set(request, run);
    });
    const onDone = containExceptions("undici:request end subscriber", (m: unknown) => {
      const request = (m as { request?: unknown }).request;
      if (typeof request !== "object" || request === null) return;
      const run = this.#byRequest.get(request);
      if (run === undefined) return;
      this.#byRequest.delete(request);
      run.onWire = Math.max(0, run.onWire - 1);
      end(run);
    });
    undiciChannels.create.subscribe(onCreate);
    undiciChannels.trailers.subscribe(onDone);
    undiciChannels.error.subscribe(onDone);
    this.#unsubscribe = () => {
      undiciChannels.create.unsubscribe(onCreate);
      undiciChannels.trailers.unsubscribe(onDone);
      undiciChannels.error.unsubscribe(onDone);
    };
    this.#original = original;
    this.#wrapper = wrapper;
    globalThis.fetch = wrapper;
  }

  #unsubscribe: (() => void) | undefined;

  uninstall(): void {
    if (this.#wrapper !== undefined && globalThis.fetch === this.#wrapper) {
      globalThis.fetch = this.#original!;
    }
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#wrapper = undefined;
    this.#original = undefined;
  }
}
