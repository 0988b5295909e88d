// Contexts and the primitives that obey them: a deadline over a batch, a cancel with a cause,
// an errgroup whose first failure stops the rest. Run: `node --import tsx examples/core.ts`.
import {
  Canceled,
  DeadlineExceeded,
  Group,
  background,
  cause,
  sleep,
  withCancel,
  withTimeout,
} from "timebound";

// One deadline over a batch: the step that would overrun is stopped, with the reason.
{
  using request = withTimeout(background(), 120, { name: "request" });
  using step = withTimeout(request, 500, { name: "lookup" }); // cannot outlive its parent
  try {
    await sleep(step, 1_000);
  } catch (err) {
    if (err instanceof DeadlineExceeded) console.log(`1. ${err.message}`);
  }
}

// A cancel with a cause reaches every descendant, synchronously.
{
  const server = withCancel(background(), { name: "server" });
  const job = withTimeout(server, 60_000, { name: "job" });
  server.cancel(new Error("SIGTERM: draining"));
  console.log(`2. job ended: ${job.err instanceof Canceled}, cause: ${String(cause(job))}`);
}

// errgroup: the first failure cancels the siblings, and wait() reports it.
{
  using ctx = withTimeout(background(), 1_000, { name: "fan-out" });
  const group = Group.withContext(ctx);
  group.go((ctx) => sleep(ctx, 10_000)); // stopped by the failure below
  group.go(async () => {
    await sleep(ctx, 10);
    throw new Error("inventory unavailable");
  });
  await group.wait().catch((err: Error) => console.log(`3. group failed: ${err.message}`));
}
