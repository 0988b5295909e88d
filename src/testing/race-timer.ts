/**
 * @internal The usual hand-made timeout, as the lab's wrong variants and the gRPC testbed's "race"
 * variant write it: `work` raced against
 * a timer that rejects with `Error("timed out after <ms> ms")` (calling `onGiveUp` first). The
 * caller is released; the loser keeps running, which is the point.
 */
export async function raceTimer<T>(
  work: Promise<T>,
  ms: number,
  onGiveUp?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    // A user's plain setTimeout, on purpose: this is the code the lab shows failing.
    // eslint-disable-next-line no-restricted-globals
    timer = setTimeout(() => {
      onGiveUp?.();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    // eslint-disable-next-line timebound/no-race-timeout -- the hand-made timeout the lab's wrong variants call: the loser runs on, on purpose
    return await Promise.race([work, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}
