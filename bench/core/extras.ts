// Goal 5 (reported, no goal): costs around the hot path that users will ask about.
import {
  type Context,
  type Key,
  createKey,
  sleep,
  withCancel,
  withValue,
} from "../../src/index.js";
import { type Comparison, compare } from "../harness.js";

const BATCH = 1000;
const DEPTH = 10;
const SLEEPS = 100;

export async function extras(parent: Context): Promise<Comparison[]> {
  const results: Comparison[] = [];
  const valueCtx = withValue(parent, createKey<string>("tenant"), "acme");
  results.push(
    await compare(
      "withCancel(valueCtx) + cancel()",
      {
        name: "under withValue",
        fn: () => {
          for (let i = 0; i < BATCH; i++) withCancel(valueCtx).cancel();
        },
      },
      {
        name: "withCancel(parent) + cancel()",
        fn: () => {
          for (let i = 0; i < BATCH; i++) withCancel(parent).cancel();
        },
      },
      { batch: BATCH },
    ),
  );

  // The key looked up sits DEPTH contexts above the caller: the worst case of a linear walk.
  const keys: Key<number>[] = [];
  let chain = parent;
  const map = new Map<Key<number>, number>();
  for (let d = 0; d < DEPTH; d++) {
    const key = createKey<number>(`k${d}`);
    keys.push(key);
    chain = withValue(chain, key, d + 1);
    map.set(key, d + 1);
  }
  const deepest = keys[0]!;
  let sink = 0; // consumed below, so the lookups cannot be optimised away
  results.push(
    await compare(
      `ctx.value(key) at depth ${DEPTH}`,
      {
        name: "ctx.value",
        fn: () => {
          for (let i = 0; i < BATCH; i++) sink += chain.value(deepest) ?? 0;
        },
      },
      {
        name: `Map.get (${DEPTH} entries)`,
        fn: () => {
          for (let i = 0; i < BATCH; i++) sink += map.get(deepest) ?? 0;
        },
      },
      { batch: BATCH },
    ),
  );
  if (sink <= 0) throw new Error("lookup bench: values not found");

  // Reading .signal makes the lazy AbortController: the price of handing ctx to fetch().
  results.push(
    await compare(
      "withCancel(parent) + .signal + cancel()",
      {
        name: "withCancel+signal",
        fn: () => {
          for (let i = 0; i < BATCH; i++) {
            const ctx = withCancel(parent);
            void ctx.signal;
            ctx.cancel();
          }
        },
      },
      {
        name: "new AbortController() + abort()",
        fn: () => {
          for (let i = 0; i < BATCH; i++) new AbortController().abort();
        },
      },
      { batch: BATCH },
    ),
  );

  // Both sides wait on Node's 1 ms minimum timer, so this shows sleep's overhead is in the noise.
  results.push(
    await compare(
      `sleep(ctx, 0) x${SLEEPS} concurrent`,
      {
        name: "sleep",
        fn: () => Promise.all(Array.from({ length: SLEEPS }, () => sleep(parent, 0))),
      },
      {
        name: "setTimeout promise",
        fn: () =>
          Promise.all(Array.from({ length: SLEEPS }, () => new Promise((r) => setTimeout(r, 0)))),
      },
      { batch: SLEEPS },
    ),
  );
  return results;
}
