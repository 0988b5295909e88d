// Goals 1 and 2: the cost of the everyday pattern, create a context then cancel it, against the
// platform's equivalents.
import { setImmediate as nextTurn } from "node:timers/promises";
import { type Context, withCancel, withTimeout } from "../../src/index.js";
import { type Comparison, compare } from "../harness.js";

const BATCH = 1000;

export async function createCancel(parent: Context): Promise<Comparison[]> {
  const cancel = await compare(
    "withCancel(parent) + cancel()",
    {
      name: "withCancel",
      fn: () => {
        for (let i = 0; i < BATCH; i++) withCancel(parent).cancel();
      },
    },
    {
      name: "new AbortController() + abort()",
      fn: () => {
        for (let i = 0; i < BATCH; i++) new AbortController().abort();
      },
    },
    { batch: BATCH, goal: 10 },
  );

  // AbortSignal.timeout cannot be cleared: its timer lives until it fires or until the signal is
  // collected and a FinalizationRegistry callback clears it, which needs a turn of the event loop.
  // Both sides yield once per batch, so that cleanup is charged to the anchor (as it would be in a
  // server) and memory stays bounded. The yield costs our batch ~5%, the anchor's far less, so
  // the ratio is if anything understated.
  const timeout = await compare(
    "withTimeout(parent, 60000) + cancel()",
    {
      name: "withTimeout",
      fn: async () => {
        for (let i = 0; i < BATCH; i++) withTimeout(parent, 60_000).cancel();
        await nextTurn();
      },
    },
    {
      name: "AbortSignal.timeout(60000)",
      fn: async () => {
        // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
        for (let i = 0; i < BATCH; i++) AbortSignal.timeout(60_000);
        await nextTurn();
      },
    },
    { batch: BATCH, goal: 5 },
  );
  return [cancel, timeout];
}
