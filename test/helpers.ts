/** Ref'd timers alive right now (Node does not list unref'd ones). */
export function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

/** Lets pending promise callbacks and immediates run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves with "pending" if `p` has not settled after the queue is flushed. */
export async function state(p: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  let s: "pending" | "fulfilled" | "rejected" = "pending";
  p.then(
    () => (s = "fulfilled"),
    () => (s = "rejected"),
  );
  await flush();
  return s;
}

/** Busy-waits, blocking the event loop, for `ms` milliseconds. */
export function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: the point is to block the loop
  }
}
