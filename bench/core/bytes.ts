// Goal 4 (reported, no ratio goal): bytes of heap per live context, against the platform's
// equivalents. Each is the heapUsed delta after a full GC over 100,000 live objects.
import {
  type CancelableContext,
  type Context,
  createKey,
  withCancel,
  withTimeout,
  withValue,
} from "../../src/index.js";
import { heapAfterGc } from "../harness.js";

const COUNT = 100_000;

export interface BytesPerContext {
  readonly name: string;
  readonly bytes: number;
}

function measure(
  name: string,
  make: () => unknown,
  release?: (item: unknown) => void,
): BytesPerContext {
  // Slots allocated before the baseline, so the array itself is not counted.
  const keep: unknown[] = new Array<unknown>(COUNT).fill(null);
  const before = heapAfterGc();
  for (let i = 0; i < COUNT; i++) keep[i] = make();
  const after = heapAfterGc();
  if (release !== undefined) for (const item of keep) release(item);
  return { name, bytes: Math.round((after - before) / COUNT) };
}

export function bytesPerContext(parent: Context): BytesPerContext[] {
  const cancel = (item: unknown): void => (item as CancelableContext).cancel();
  const source = new AbortController();
  const key = createKey<number>("bench");
  const results = [
    measure("withCancel(parent)", () => withCancel(parent), cancel),
    measure("withTimeout(parent, 60000)", () => withTimeout(parent, 60_000), cancel),
    measure(
      "withCancel(parent) + .signal read",
      () => {
        const ctx = withCancel(parent);
        void ctx.signal; // materialises the lazy AbortController
        return ctx;
      },
      cancel,
    ),
    measure("withValue(parent, key, 1)", () => withValue(parent, key, 1)),
    // Node 20 makes an AbortController's signal on first read, so count both.
    measure("new AbortController()", () => new AbortController()),
    measure("new AbortController() + .signal read", () => {
      const ac = new AbortController();
      void ac.signal;
      return ac;
    }),
    measure("AbortSignal.any([signal])", () => AbortSignal.any([source.signal])),
  ];
  return results;
}
