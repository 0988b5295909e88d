import type { Context } from "../../core/index.js";
import type { Pool, PoolClient } from "pg";
import { raceContext } from "../race.js";

/**
 * While a client is checked out, pg-pool listens for none of its errors, and an 'error' event
 * without a listener kills the process. A connection that dies mid-statement fails the statement
 * anyway (and the stop then closes the client), so the event itself needs no handling.
 */
const ignoreError = (): void => {};

/**
 * @internal Checks a client out of `pool` under `ctx`: rejects with `ctx.err` as soon as `ctx`
 * ends, even while waiting for a free connection. pg-pool cannot withdraw a waiting checkout, so a
 * client that arrives after the caller gave up is released straight back. Give the client back with
 * {@link releaseClient}.
 */
export async function acquire(ctx: Context, pool: Pool): Promise<PoolClient> {
  let checkout: Promise<PoolClient> | undefined;
  let client: PoolClient;
  try {
    client = await raceContext(ctx, () => (checkout = pool.connect()));
  } catch (err) {
    if (checkout !== undefined && ctx.err !== undefined) {
      checkout.then(
        (late) => late.release(),
        () => {}, // the checkout failed too: nothing to give back
      );
    }
    throw err;
  }
  watchClientErrors(client);
  return client;
}

/** @internal Call on a client just checked out; {@link releaseClient} undoes it. */
export function watchClientErrors(client: PoolClient): void {
  client.on("error", ignoreError);
}

/**
 * @internal Gives a client back to its pool, or has the pool drop it when it could not be made
 * idle.
 */
export function releaseClient(client: PoolClient, reusable: boolean): void {
  client.removeListener("error", ignoreError);
  client.release(reusable ? undefined : new Error(NOT_IDLE));
}

const NOT_IDLE =
  "timebound/pg: the backend was not confirmed idle after a cancel; connection closed";
