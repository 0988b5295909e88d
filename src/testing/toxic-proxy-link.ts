// One proxied connection of the toxic proxy: two sockets and a pump each way that applies the
// toxics to the bytes as they cross.
import type { Socket } from "node:net";
import { startTimer } from "../core/internal.js";
import { type CheckedToxic, type ToxicStream, actsOn } from "./toxic-proxy-toxics.js";

/** What a connection needs from its proxy. @internal */
export interface LinkHost {
  /** The toxics now (they may change while the connection lives). */
  activeToxics(): readonly CheckedToxic[];
  /** A number in [0, 1) from the proxy's generator. */
  random(): number;
  readonly counts: LinkCounts;
  /** The connection ended (both sockets closed). */
  ended(link: Link): void;
}

/** Counters a connection adds to (a part of ToxicProxyStats). @internal */
export interface LinkCounts {
  bytes: Record<ToxicStream, number>;
  dropped: Record<ToxicStream, number>;
  resets: number;
}

/** Queued bytes at which the source is paused until the queue drains. */
const HIGH_WATER = 1024 * 1024;
const END = Symbol("end");
const RESET = Symbol("reset");
const EMPTY = Buffer.alloc(0);
/** How long a reset that follows bytes waits after them (see {@link Link.reset}). */
const RESET_PAUSE_MS = 20;

interface Item {
  readonly data: Buffer | typeof END | typeof RESET;
  readonly at: number;
}

/** A client connection and its upstream connection, proxied. @internal */
export class Link {
  readonly #host: LinkHost;
  readonly client: Socket;
  readonly server: Socket;
  /** Per toxic: whether it acts on this connection (its toxicity, drawn once). */
  readonly #applies = new Map<CheckedToxic, boolean>();
  readonly #pumps: Pump[];
  #closed = 0;
  #reset = false;

  constructor(host: LinkHost, client: Socket, server: Socket) {
    this.#host = host;
    this.client = client;
    this.server = server;
    this.#pumps = [
      new Pump(this, "upstream", client, server),
      new Pump(this, "downstream", server, client),
    ];
    for (const socket of [client, server]) {
      socket.on("error", () => this.reset(false)); // an abrupt end passes on abruptly
      socket.once("close", () => {
        if (++this.#closed === 2) this.#host.ended(this);
        else for (const p of this.#pumps) if (p.dst !== socket) p.closeWhenDrained();
      });
    }
  }

  /** The toxics acting on `stream` of this connection now. */
  toxics(stream: ToxicStream): CheckedToxic[] {
    const acting: CheckedToxic[] = [];
    for (const t of this.#host.activeToxics()) {
      if (!actsOn(t, stream)) continue;
      let applies = this.#applies.get(t);
      if (applies === undefined) {
        applies = t.toxicity >= 1 || this.#host.random() < t.toxicity;
        this.#applies.set(t, applies);
      }
      if (applies) acting.push(t);
    }
    return acting;
  }

  /** A number in [0, 1) from the proxy's generator. */
  random(): number {
    return this.#host.random();
  }

  get counts(): LinkCounts {
    return this.#host.counts;
  }

  /**
   * Resets both sockets (RST); `counted` for a reset toxic, not for one passed on. `afterData`:
   * bytes were just written, and a RST right behind bytes the peer has not read yet may reach
   * it as a plain end of stream (seen on Linux): the RST waits until they have gone out, and
   * {@link RESET_PAUSE_MS} more.
   */
  reset(counted: boolean, afterData = false): void {
    if (this.#reset) return;
    this.#reset = true;
    if (counted) this.#host.counts.resets++;
    for (const p of this.#pumps) p.stop();
    for (const socket of [this.client, this.server]) {
      if (socket.destroyed) continue;
      socket.pause();
      if (socket.connecting) {
        socket.destroy();
        continue;
      }
      const rst = (): void => {
        if (socket.destroyed) return;
        try {
          socket.resetAndDestroy();
        } catch {
          socket.destroy();
        }
      };
      if (!afterData) rst();
      else socket.write(EMPTY, () => startTimer(rst, RESET_PAUSE_MS));
    }
  }

  /** Cuts both sockets now (the proxy closes). */
  destroy(): void {
    for (const p of this.#pumps) p.stop();
    this.client.destroy();
    this.server.destroy();
  }
}

/** The bytes of one direction: read from `src`, held and paced by the toxics, written to `dst`. */
class Pump {
  readonly #queue: Item[] = [];
  #queuedBytes = 0;
  #timer: ReturnType<typeof startTimer> | undefined;
  /** Bytes that went through, for the reset toxic. */
  #through = 0;
  /** When the last queued item is due (order is kept). */
  #lastAt = 0;
  /** When the bandwidth toxic lets the next byte go. */
  #nextFree = 0;
  #closeWhenDrained = false;
  #stopped = false;

  constructor(
    readonly link: Link,
    readonly stream: ToxicStream,
    readonly src: Socket,
    readonly dst: Socket,
  ) {
    src.on("data", (chunk: Buffer) => this.#onData(chunk));
    src.once("end", () => this.#onEnd());
    dst.on("drain", () => this.#resumeIfRoom());
  }

  #onData(chunk: Buffer): void {
    if (this.#stopped) return;
    const toxics = this.link.toxics(this.stream);
    const counts = this.link.counts;
    let resetAfter = Infinity;
    let latency = 0;
    let rate = 0;
    let blackhole = false;
    for (const t of toxics) {
      if (t.type === "reset") resetAfter = Math.min(resetAfter, t.afterBytes);
      else if (t.type === "blackhole") blackhole = true;
      else if (t.type === "latency")
        latency += Math.max(0, t.latencyMs + (2 * this.link.random() - 1) * t.jitterMs);
      else if (t.type === "bandwidth")
        rate = rate === 0 ? t.bytesPerSecond : Math.min(rate, t.bytesPerSecond);
    }
    let data = chunk;
    let reset = false;
    if (this.#through + data.length > resetAfter || resetAfter === 0) {
      data = data.subarray(0, Math.max(0, resetAfter - this.#through));
      reset = true;
    }
    if (blackhole) {
      counts.dropped[this.stream] += data.length;
      data = data.subarray(0, 0);
    }
    this.#through += data.length;
    const now = performance.now();
    let at = Math.max(now + latency, this.#lastAt);
    if (rate > 0 && data.length > 0) {
      // Pieces of about 20 ms worth each, so the pace is smooth rather than one burst a chunk.
      const piece = Math.max(1, Math.floor(rate / 50));
      for (let i = 0; i < data.length; i += piece) {
        const part = data.subarray(i, i + piece);
        this.#nextFree = Math.max(at, this.#nextFree) + (part.length / rate) * 1000;
        this.#push({ data: part, at: this.#nextFree });
      }
      at = this.#nextFree;
    } else if (data.length > 0) {
      this.#push({ data, at });
    }
    if (reset) this.#push({ data: RESET, at });
    this.#flush();
  }

  #onEnd(): void {
    if (this.#stopped) return;
    let delay = 0;
    let blackhole = false;
    for (const t of this.link.toxics(this.stream)) {
      if (t.type === "slowClose") delay = Math.max(delay, t.delayMs);
      if (t.type === "blackhole") blackhole = true;
    }
    if (blackhole) return; // the end is swallowed too
    this.#push({ data: END, at: Math.max(performance.now(), this.#lastAt) + delay });
    this.#flush();
  }

  #push(item: Item): void {
    this.#queue.push(item);
    this.#lastAt = item.at;
    if (Buffer.isBuffer(item.data)) {
      this.#queuedBytes += item.data.length;
      if (this.#queuedBytes > HIGH_WATER) this.src.pause();
    }
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const now = performance.now();
    while (this.#queue.length > 0 && !this.#stopped) {
      const item = this.#queue[0]!;
      if (item.at > now) {
        this.#timer = startTimer(() => {
          this.#timer = undefined;
          this.#flush();
        }, item.at - now);
        return;
      }
      this.#queue.shift();
      if (item.data === RESET) {
        this.link.reset(true, this.#through > 0);
        return;
      }
      if (item.data === END) {
        this.dst.end();
        continue;
      }
      this.#queuedBytes -= item.data.length;
      this.link.counts.bytes[this.stream] += item.data.length;
      if (!this.dst.destroyed && !this.dst.write(item.data)) this.src.pause();
    }
    this.#resumeIfRoom();
    if (this.#queue.length === 0 && this.#closeWhenDrained) this.dst.destroy();
  }

  #resumeIfRoom(): void {
    if (this.#stopped || this.#queuedBytes > HIGH_WATER || this.dst.writableNeedDrain) return;
    if (this.src.isPaused()) this.src.resume();
  }

  /** The source closed: once what is queued is written, the destination closes too. */
  closeWhenDrained(): void {
    if (this.#stopped) return; // reset or destroyed: the link closes the socket itself
    this.#closeWhenDrained = true;
    if (this.#queue.length === 0) this.dst.destroy();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}
