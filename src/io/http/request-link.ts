// Ties one incoming request's context to its response and to its connection. The connection
// matters on its own: a request pipelined behind another on HTTP/1.1 has a response that waits
// for the socket and emits nothing when the socket closes, so only the socket tells that its
// client is gone.
import { type CancelableContext, type Context, DeadlineExceeded } from "../../core/index.js";
import { startTimer, unwatch, watch, Watcher } from "../../core/internal.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CLIENT_DISCONNECTED, RESPONSE_FINISHED } from "./errors.js";

/** The part of a connection (a net.Socket) the link uses. */
interface Connection {
  readonly destroyed: boolean;
  once(event: "close", listener: () => void): unknown;
}

/**
 * The requests of one connection whose responses have not closed yet: usually one, more when
 * requests are pipelined. A list threaded through the links themselves, not a Set: joining and
 * leaving are then two pointer writes, with no hash of a new object per request.
 */
interface OpenRequests {
  head: RequestLink | null;
}

/**
 * Each connection's open requests. One `close` listener per connection, for its whole life,
 * serves them all, so a keep-alive connection gains no listener per request. A WeakMap rather
 * than a field on the socket: a field added to some sockets would give Node's hot paths a
 * second shape.
 */
const open = new WeakMap<Connection, OpenRequests>();

function isConnection(socket: unknown): socket is Connection {
  return (
    typeof socket === "object" &&
    socket !== null &&
    typeof (socket as Partial<Connection>).once === "function"
  );
}

function connectionClosed(requests: OpenRequests): void {
  // Every link leaves first: ending one request's context must not touch the list being read.
  const links: RequestLink[] = [];
  for (let link = requests.head; link !== null; link = link.nextOnConnection) links.push(link);
  for (const link of links) link.leaveConnection();
  for (const link of links) link.disconnected();
}

/**
 * Makes `ctx` end when its request is over: as finished ({@link RESPONSE_FINISHED}) when the
 * response has been sent, as disconnected ({@link CLIENT_DISCONNECTED}) when the response or
 * the connection closes before that. When `ctx` ends by its deadline or because an ancestor
 * ended, the response has `graceMs` to be finished (a 504 from the handler) before it is
 * destroyed, so that the client is not left waiting (Infinity: never destroyed).
 *
 * @internal
 */
export function tieRequest(
  ctx: CancelableContext,
  parent: Context,
  req: IncomingMessage,
  res: ServerResponse,
  graceMs: number,
): void {
  if (res.writableFinished) {
    ctx.cancel(RESPONSE_FINISHED);
    return;
  }
  const socket: unknown = req.socket;
  const connection = isConnection(socket) ? socket : undefined;
  if (res.destroyed || connection?.destroyed === true) {
    ctx.cancel(CLIENT_DISCONNECTED); // it went away before we got here
    return;
  }
  const link = new RequestLink(ctx, parent, res, graceMs);
  // `on`, not `once`: a response closes once, and once() would wrap the listener per request.
  res.on("close", link.closed);
  if (connection !== undefined) {
    let requests = open.get(connection);
    if (requests === undefined) {
      const made: OpenRequests = { head: null };
      connection.once("close", () => connectionClosed(made));
      open.set(connection, made);
      requests = made;
    }
    link.joinConnection(requests);
  }
  // Born ended (a deadline of 0, a parent already canceled): the grace starts now.
  if (graceMs !== Infinity && !watch(ctx, link)) link.cut();
}

/** One request's link; see {@link tieRequest}. */
class RequestLink extends Watcher {
  /** The open requests of its connection, while it is one of them, and its neighbours there. */
  connection: OpenRequests | undefined = undefined;
  prevOnConnection: RequestLink | null = null;
  nextOnConnection: RequestLink | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #ctx: CancelableContext;
  readonly #parent: Context;
  readonly #res: ServerResponse;
  readonly #graceMs: number;

  constructor(ctx: CancelableContext, parent: Context, res: ServerResponse, graceMs: number) {
    super();
    this.#ctx = ctx;
    this.#parent = parent;
    this.#res = res;
    this.#graceMs = graceMs;
  }

  joinConnection(requests: OpenRequests): void {
    const head = requests.head;
    this.nextOnConnection = head;
    if (head !== null) head.prevOnConnection = this;
    requests.head = this;
    this.connection = requests;
  }

  leaveConnection(): void {
    const requests = this.connection;
    if (requests === undefined) return;
    const prev = this.prevOnConnection;
    const next = this.nextOnConnection;
    if (prev === null) requests.head = next;
    else prev.nextOnConnection = next;
    if (next !== null) next.prevOnConnection = prev;
    this.prevOnConnection = this.nextOnConnection = null;
    this.connection = undefined;
  }

  /** The response closed: sent to the end, or cut off with its connection. */
  readonly closed = (): void => {
    this.leaveConnection();
    this.#detach();
    this.#ctx.cancel(this.#res.writableFinished ? RESPONSE_FINISHED : CLIENT_DISCONNECTED);
  };

  /** The connection closed (the link has left its list). */
  disconnected(): void {
    const res = this.#res;
    if (res.writableFinished) return; // its own `close` follows and ends the context as finished
    this.#detach();
    this.#ctx.cancel(CLIENT_DISCONNECTED);
    // A pipelined response still waiting for the socket: nobody will read it; writes to it
    // are dropped from now on, and `res.destroyed` tells the handler.
    if (!res.destroyed) res.destroy();
  }

  #detach(): void {
    unwatch(this);
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** @internal The core's hook (see `Watcher`): the context ended. */
  _ended(): void {
    this.cut();
  }

  /**
   * The context ended while the response is open. A cancel by the context's holder (`using`,
   * `ctx.cancel()`) leaves the response to them; a deadline or an ancestor's end starts the
   * grace period, after which an unfinished response is destroyed.
   */
  cut(): void {
    if (!(this.#ctx.err instanceof DeadlineExceeded) && this.#parent.err === undefined) return;
    if (this.#graceMs === 0) {
      queueMicrotask(() => this.expire()); // after cancel() has returned: it touches the socket
    } else {
      this.#timer = startTimer(expire, this.#graceMs, this);
      this.#timer.unref(); // a deadline bounds work, it is not work
    }
  }

  /** The grace is over: a response not ended by now is destroyed; the client sees it cut off. */
  expire(): void {
    this.#timer = undefined;
    const res = this.#res;
    if (!res.writableEnded && !res.destroyed) res.destroy();
  }
}

function expire(link: RequestLink): void {
  link.expire();
}
