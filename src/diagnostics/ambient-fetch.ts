import { current } from "../core/index.js";
import { containExceptions } from "./contain.js";
import { type OperationRecord, nodeOf } from "./records.js";
import { StackRef } from "./stacks.js";
import type { Tracker } from "./tracker.js";

type Fetch = typeof globalThis.fetch;

/**
 * @internal Makes a global `fetch` called inside `run(ctx, …)` an operation of `ctx`, for code that
 * does not use timebound's HTTP client: one still pending after `ctx` ended (typically because its
 * signal was never passed) is an ignored cancellation. Calls from timebound's own adapters are left
 * alone: they announce their work themselves. Ends with the response headers, as `fetch`'s promise
 * does; a body read after that is not followed.
 */
export class AmbientFetchWatch {
  #original: Fetch | undefined;
  #wrapper: Fetch | undefined;

  readonly #tracker: Tracker;

  constructor(tracker: Tracker) {
    this.#tracker = tracker;
  }

  install(): void {
    const original = globalThis.fetch;
    if (typeof original !== "function" || this.#wrapper !== undefined) return;
    const tracker = this.#tracker;
    const startOp = containExceptions("fetch wrapper", (start: () => void) => start());
    // An operation for a fetch made inside run(ctx, …) by the program (not by timebound).
    const operationFor = (wrapper: Fetch): OperationRecord | undefined => {
      const ambient = current();
      if (ambient === undefined || nodeOf(ambient) === null) return undefined;
      const stack = StackRef.capture(wrapper);
      return stack.parsed.internal ? undefined : tracker.startOperation("fetch", ambient, stack);
    };
    const wrapper = function fetch(this: unknown, ...args: Parameters<Fetch>): ReturnType<Fetch> {
      let op: OperationRecord | undefined;
      startOp(() => (op = operationFor(wrapper)));
      const pending: ReturnType<Fetch> = Reflect.apply(original, this, args);
      if (op !== undefined) {
        const end = (): void => tracker.endOperation(op!);
        pending.then(end, end);
      }
      return pending;
    };
    this.#original = original;
    this.#wrapper = wrapper;
    globalThis.fetch = wrapper;
  }

  uninstall(): void {
    if (this.#wrapper !== undefined && globalThis.fetch === this.#wrapper) {
      globalThis.fetch = this.#original!;
    }
    this.#wrapper = undefined;
    this.#original = undefined;
  }
}
