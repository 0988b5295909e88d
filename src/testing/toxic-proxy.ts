import { type Server, type Socket, connect, createServer } from "node:net";
import {
  checkNumber,
  checkString,
  invalidType,
  outOfRange,
  readOptions,
} from "../core/internal.js";
import { SeededRandom } from "./fault-upstream-random.js";
import { portError } from "./free-port.js";
import { type LinkHost, Link } from "./toxic-proxy-link.js";
import {
  type CheckedToxic,
  type Toxic,
  type ToxicStream,
  checkToxic,
  describeToxic,
} from "./toxic-proxy-toxics.js";

/**
 * Options of {@link startToxicProxy}.
 *
 * @example
 * ```ts
 * import { startRedis, startToxicProxy } from "timebound/testing";
 *
 * await using redis = await startRedis();
 * await using proxy = await startToxicProxy({
 *   upstream: `127.0.0.1:${redis.port}`,
 *   toxics: [{ type: "latency", latencyMs: 100 }],
 * });
 * ```
 */
export interface ToxicProxyOptions {
  /** Where connections go: `"host:port"` (`"[::1]:port"` for IPv6). Required. */
  readonly upstream: string;
  /** The toxics at the start. Default none (the proxy passes bytes through untouched). */
  readonly toxics?: readonly Toxic[];
  /** The port on 127.0.0.1, 1 to 65535. Default: a free one. */
  readonly port?: number;
  /** Seed of the draws (toxicity, jitter), an integer from 0 to 2^32 − 1. Default random. */
  readonly seed?: number;
}

/**
 * What went through a {@link ToxicProxy}, from {@link ToxicProxy.stats}: `upstream` counts bytes
 * from clients to the server, `downstream` from the server to clients.
 *
 * @example
 * ```ts
 * import { startToxicProxy } from "timebound/testing";
 *
 * await using proxy = await startToxicProxy({ upstream: "127.0.0.1:5432" });
 * // ... connections through proxy.port ...
 * const { connections, bytes } = proxy.stats();
 * console.log(`${connections} connections, ${bytes.downstream} bytes to clients`);
 * ```
 */
export interface ToxicProxyStats {
  /** Bytes that went through, each way (not those dropped or cut by a reset). */
  bytes: Record<ToxicStream, number>;
  /** Bytes a blackhole swallowed, each way. */
  dropped: Record<ToxicStream, number>;
  /** Connections a reset toxic reset. */
  resets: number;
  /** Connections accepted. */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Connections to the upstream that failed (the client's was then reset). */
  upstreamErrors: number;
}

/**
 * A Toxiproxy-style TCP proxy from {@link startToxicProxy}. Toxics can be added and removed at
 * any time: they act on open connections too, from their next byte.
 *
 * @example
 * ```ts
 * import { startFaultUpstream, startToxicProxy } from "timebound/testing";
 *
 * await using upstream = await startFaultUpstream();
 * await using proxy = await startToxicProxy({ upstream: `${upstream.host}:${upstream.port}` });
 * proxy.addToxic({ type: "reset", name: "cut" });
 * // ... every new connection is reset ...
 * proxy.removeToxic("cut");
 * ```
 */
export interface ToxicProxy extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** `127.0.0.1:port`, to give a client in place of the upstream's address. */
  readonly address: string;
  /** The upstream, as given. */
  readonly upstream: string;
  /** Adds a toxic; returns its name. Throws if one of that name is there already. */
  addToxic(toxic: Toxic): string;
  /** Removes the toxic named `name`; false if there was none. */
  removeToxic(name: string): boolean;
  /** Removes every toxic. */
  clearToxics(): void;
  /** The toxics now, with their defaults filled in. */
  toxics(): Toxic[];
  /** The counts since the start or the last {@link ToxicProxy.resetStats}. */
  stats(): ToxicProxyStats;
  /** Starts the counts again from zero (`active` stays). */
  resetStats(): void;
  /** Stops listening and cuts every open connection. Idempotent. */
  close(): Promise<void>;
  /** {@link ToxicProxy.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a TCP proxy on 127.0.0.1 in front of `upstream` that injects faults into the bytes
 * crossing it, as Toxiproxy does (the kernel's netem is not available everywhere; these are made
 * in user space): latency with jitter, bandwidth limits, blackholes, resets (ECONNRESET after N
 * bytes or at once), slow closes. See {@link Toxic}.
 *
 * It runs in this process: toxics change synchronously (the next byte sees them, with no round
 * trip to another process) and the counts are exact and synchronous; it closes with this
 * process, so nothing can be left behind, and does not keep the process alive. Its timers share
 * this process's event loop: a busy loop here delays its bytes too.
 *
 * Rejects (never throws) on bad options (naming the option) or a `port` that is taken.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import { startFaultUpstream, startToxicProxy } from "timebound/testing";
 *
 * test("the client sees a reset", async () => {
 *   await using upstream = await startFaultUpstream();
 *   await using proxy = await startToxicProxy({
 *     upstream: `${upstream.host}:${upstream.port}`,
 *     toxics: [{ type: "reset" }],
 *   });
 *   await assert.rejects(fetch(`http://${proxy.address}/`), (err: Error) => {
 *     assert.equal((err.cause as NodeJS.ErrnoException).code, "ECONNRESET");
 *     return true;
 *   });
 * });
 * ```
 */
export async function startToxicProxy(options: ToxicProxyOptions): Promise<ToxicProxy> {
  const fn = "startToxicProxy";
  const o = readOptions(options, fn, ["upstream", "toxics", "port", "seed"]);
  const target = parseHostPort(fn, o.raw("upstream"));
  const port = o.number("port", 0, { min: 1, max: 65535, integer: true });
  const seed = o.number("seed", (Math.random() * 2 ** 32) >>> 0, {
    min: 0,
    max: 2 ** 32 - 1,
    integer: true,
  });
  const toxics = o.raw("toxics");
  if (toxics !== undefined && !Array.isArray(toxics)) {
    throw invalidType(`${fn}: options.toxics must be an array of toxics, got ${typeof toxics}`);
  }
  const proxy = new RunningProxy(options.upstream, target, seed);
  for (const [i, t] of (toxics ?? []).entries())
    proxy.add(checkToxic(fn, t, `options.toxics[${i}]`), fn);
  await proxy.listen(fn, port);
  return proxy;
}

function parseHostPort(fn: string, value: unknown): { host: string; port: number } {
  const text = checkString(value, fn, "options.upstream");
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (m === null) {
    throw outOfRange(
      `${fn}: options.upstream must be "host:port" (or "[v6 address]:port"), got ${JSON.stringify(text)}`,
    );
  }
  const port = checkNumber(Number(m[3]), fn, "the port of options.upstream", {
    min: 1,
    max: 65535,
    integer: true,
  });
  return { host: m[1] ?? m[2]!, port };
}

function freshCounts(): ToxicProxyStats {
  return {
    connections: 0,
    active: 0,
    upstreamErrors: 0,
    bytes: { upstream: 0, downstream: 0 },
    dropped: { upstream: 0, downstream: 0 },
    resets: 0,
  };
}

class RunningProxy implements ToxicProxy, LinkHost {
  readonly host = "127.0.0.1";
  port = 0;
  address = "";
  counts = freshCounts();
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #links = new Set<Link>();
  readonly #random: SeededRandom;
  #toxics: CheckedToxic[] = [];
  #closing: Promise<void> | undefined;

  constructor(
    readonly upstream: string,
    target: { host: string; port: number },
    seed: number,
  ) {
    this.#target = target;
    this.#random = new SeededRandom(seed);
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
      this.#accept(socket),
    );
  }

  listen(fn: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", (err: NodeJS.ErrnoException) =>
        reject(port === 0 ? err : portError(fn, port, err.code)),
      );
      this.#server.listen(port, this.host, () => {
        const address = this.#server.address();
        this.port = typeof address === "object" && address !== null ? address.port : port;
        this.address = `${this.host}:${this.port}`;
        this.#server.unref(); // a test's proxy does not keep the process alive
        resolve();
      });
    });
  }

  #accept(client: Socket): void {
    this.counts.connections++;
    if (
      this.#toxics.some(
        (t) =>
          t.type === "reset" &&
          t.afterBytes === 0 &&
          (t.toxicity >= 1 || this.random() < t.toxicity),
      )
    ) {
      this.counts.resets++;
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    this.counts.active++;
    const server = connect({
      host: this.#target.host,
      port: this.#target.port,
      allowHalfOpen: true,
    });
    let connected = false;
    server.once("connect", () => (connected = true));
    server.once("error", () => {
      if (!connected) this.counts.upstreamErrors++;
    });
    const link = new Link(this, client, server);
    this.#links.add(link);
    client.resume();
  }

  activeToxics(): readonly CheckedToxic[] {
    return this.#toxics;
  }

  toxics(): Toxic[] {
    return this.#toxics.map(describeToxic);
  }

  random(): number {
    return this.#random.next();
  }

  ended(link: Link): void {
    if (this.#links.delete(link)) this.counts.active--;
  }

  add(toxic: CheckedToxic, fn: string): string {
    if (this.#toxics.some((t) => t.name === toxic.name)) {
      throw outOfRange(
        `${fn}: a toxic named ${JSON.stringify(toxic.name)} is there already: remove it first, or give this one another name`,
      );
    }
    this.#toxics = [...this.#toxics, toxic];
    return toxic.name;
  }

  addToxic(toxic: Toxic): string {
    const fn = "ToxicProxy.addToxic";
    return this.add(checkToxic(fn, toxic, "toxic"), fn);
  }

  removeToxic(name: string): boolean {
    const before = this.#toxics.length;
    this.#toxics = this.#toxics.filter((t) => t.name !== name);
    return this.#toxics.length < before;
  }

  clearToxics(): void {
    this.#toxics = [];
  }

  stats(): ToxicProxyStats {
    const c = this.counts;
    return { ...c, bytes: { ...c.bytes }, dropped: { ...c.dropped } };
  }

  resetStats(): void {
    this.counts = { ...freshCounts(), active: this.counts.active };
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const link of this.#links) link.destroy();
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
