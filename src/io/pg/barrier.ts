import type { DriverClient, Submittable, WireConnection } from "./driver.js";

/** Returned by `submit` to finish at once: pg then calls handleError with it, writing nothing. */
const PASS = new Error("timebound/pg: cancel barrier passed");

/**
 * @internal Holds a client's query queue shut behind a statement that was canceled, until the
 * CancelRequest is known to be spent. The danger it closes: a statement that finished on its own
 * just as the cancel went out leaves the cancel in flight, and a cancel that lands later cancels
 * whatever the backend runs then, the next caller's query.
 *
 * It goes to the front of the client's queue the moment the canceled statement's ReadyForQuery
 * arrives, just before pg takes the next query from that queue, so it runs before anything
 * queued meanwhile, and until then the queue holds only what others put there (pg deprecates
 * queueing a query behind another queued one). If the server has already closed the cancel
 * connection by then (the usual case: it signals the backend before it closes), the barrier
 * passes without a round trip. Otherwise it waits for the close and then sends a Sync, whose
 * ReadyForQuery proves the backend idle after the signal. If the cancel's fate stays unknown, or
 * the connection fails first, it never opens; the caller's time bound then closes the connection.
 */
export class CancelBarrier implements Submittable {
  /** True once the client may run its next query; false if the connection failed first. */
  readonly done: Promise<boolean>;
  #settle: (ok: boolean) => void = () => {};
  #open = false;
  #over = false;
  #waiting: WireConnection | undefined;

  /** `spent` resolves true when no cancel can land any more, false when that is unknown. */
  constructor(spent: Promise<boolean>) {
    this.done = new Promise((resolve) => (this.#settle = resolve));
    void spent.then((open) => {
      if (!open) return;
      this.#open = true;
      const connection = this.#waiting;
      if (connection !== undefined && !this.#over) connection.sync();
    });
  }

  /**
   * Holds `client` once the statement it is running now is over: on that statement's
   * ReadyForQuery (which also follows an ErrorResponse such as 57014). If the connection ends
   * first, the barrier fails at once.
   */
  holdAfter(client: DriverClient): void {
    const connection = client.connection;
    const ended = (): void => this.#finish(false);
    connection.once("end", ended);
    void this.done.then(() => connection.removeListener("end", ended));
    connection.prependOnceListener("readyForQuery", () => {
      if (this.#over) return;
      const queue = client._queryQueue;
      if (Array.isArray(queue)) queue.unshift(this);
      else client.query(this);
    });
  }

  submit(connection: WireConnection): Error | null {
    if (this.#open) return PASS;
    this.#waiting = connection;
    return null;
  }

  handleReadyForQuery(): void {
    this.#finish(true);
  }

  handleError(err: Error): void {
    this.#finish(err === PASS);
  }

  #finish(ok: boolean): void {
    if (this.#over) return;
    this.#over = true;
    this.#settle(ok);
  }

  // A lone Sync is answered by ReadyForQuery alone; nothing else should arrive.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail("timebound/pg: unexpected COPY");
  }
}
