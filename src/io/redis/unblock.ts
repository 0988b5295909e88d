import { background, withTimeout } from "../../core/index.js";
import { sleep } from "../../sync/sleep.js";
import { raceContext } from "../race.js";
import type { DedicatedConnection } from "./driver.js";
import type { BlockingPool } from "./pool.js";

/**
 * Whether the blocked command has had its reply (any reply: a value, a timeout, an error).
 *
 * @internal
 */
export interface AwaitedReply {
  readonly arrived: boolean;
  /** Resolves when it arrives; never rejects. */
  readonly promise: Promise<void>;
}

/** Longest pause between two `CLIENT UNBLOCK`s that found nothing blocked. */
const MAX_PAUSE_MS = 16;

/**
 * Releases the command blocked on `target` with `CLIENT UNBLOCK <id> ERROR`, sent from the pool's
 * control connection: the server answers the blocked command with an UNBLOCKED error, and the
 * connection stays open for the next command. No disconnect, no reconnect.
 *
 * `CLIENT UNBLOCK` answers 0 when the client is not blocked: its command may still be on the way
 * to the server (it travels on another socket), or its reply may be on the way back. So it is
 * sent again, after a short pause that the reply cuts short, until the reply arrives. If that
 * takes longer than `timeoutMs`, or the control connection fails, `target` is closed instead:
 * the server drops a closed client's blocked command, and the pool opens a new connection.
 *
 * @internal
 */
export async function unblock(
  pool: BlockingPool,
  target: DedicatedConnection,
  reply: AwaitedReply,
  timeoutMs: number,
): Promise<void> {
  using limit = withTimeout(background(), timeoutMs, { name: "redis CLIENT UNBLOCK" });
  let pauseMs = 1;
  try {
    while (!reply.arrived) {
      const control =
        pool.readyControl() ?? (await raceContext(limit, () => pool.controlConnection()));
      const released = await raceContext(limit, () =>
        control.send("client", ["UNBLOCK", target.id, "ERROR"], "utf8"),
      );
      if (released === 1) return;
      await Promise.race([reply.promise, sleep(limit, pauseMs)]);
      pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }
  } catch {
    target.destroy();
  }
}
