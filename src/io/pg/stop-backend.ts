import { background, now, withTimeout } from "../../core/index.js";
import { raceContext } from "../race.js";
import { CancelBarrier } from "./barrier.js";
import { type CancelDelivery, cancelTarget, sendCancelRequest } from "./cancel-request.js";
import type { DriverClient } from "./driver.js";
import { type StatementStopOutcome, pgChannels } from "./events.js";
import type { Statement } from "./guarded-query.js";

/**
 * @internal Stops a statement the backend is running and tells whether its client may be reused:
 * sends the CancelRequest, lets the statement's answer (57014, or its result if it won the race)
 * come in, and holds the client's queue until the cancel is spent (see {@link CancelBarrier}). True
 * once all that is done; false if it did not happen within `boundMs`, or the connection failed: the
 * connection must then be closed, never reused. Never rejects.
 */
export async function stopBackend(
  client: DriverClient,
  statement: Statement,
  boundMs: number,
): Promise<boolean> {
  const started = now();
  const processId = client.processID;
  const secretKey = client.secretKey;
  if (typeof processId !== "number" || typeof secretKey !== "number") {
    publish(processId ?? 0, "closed", undefined, 0); // no key: nothing can stop it but closing
    return false;
  }
  let delivery: Promise<CancelDelivery>;
  let reusable: boolean;
  try {
    delivery = sendCancelRequest(cancelTarget(client), processId, secretKey, boundMs);
    const barrier = new CancelBarrier(delivery.then((d) => d !== "unknown"));
    barrier.holdAfter(client);
    reusable = await within(boundMs, barrier.done);
  } catch {
    publish(processId, "closed", undefined, now() - started); // a client not as expected
    return false;
  }
  if (pgChannels.cancel.hasSubscribers) {
    const elapsedMs = now() - started;
    void delivery.then((d) => publish(processId, outcome(statement, reusable), d, elapsedMs));
  }
  return reusable;
}

function outcome(statement: Statement, reusable: boolean): StatementStopOutcome {
  if (!reusable) return "closed";
  if (statement.errorCode === undefined) return "completed";
  return statement.errorCode === "57014" ? "canceled" : "failed";
}

function publish(
  processId: number,
  result: StatementStopOutcome,
  delivery: CancelDelivery | undefined,
  elapsedMs: number,
): void {
  if (!pgChannels.cancel.hasSubscribers) return;
  pgChannels.cancel.publish({ processId, outcome: result, delivery, elapsedMs });
}

/** `done`'s value, or false if `ms` pass first (the bound on cleaning up after a cancel). */
async function within(ms: number, done: Promise<boolean>): Promise<boolean> {
  using bound = withTimeout(background(), ms, { name: "pg cancel bound" });
  try {
    return await raceContext(bound, () => done);
  } catch {
    return false;
  }
}
