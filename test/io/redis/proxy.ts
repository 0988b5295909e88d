// A TCP proxy in front of the test Redis that can hold traffic (pause), cut every connection, or
// not listen yet: the network conditions under which ioredis queues or has written a command.
import { type Server, type Socket, connect, createServer } from "node:net";

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes from the client not yet passed on, while paused. */
  held: Buffer[];
}

/** A loopback TCP proxy to `targetPort` on 127.0.0.1. */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private held = false;

  constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** Starts accepting connections on {@link port}. */
  listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  /** From now on, bytes from clients are held in the proxy (the server sees nothing). */
  pause(): void {
    this.held = true;
  }

  /** Lets held bytes through, in order. */
  resume(): void {
    this.held = false;
    for (const pair of this.pairs) {
      for (const chunk of pair.held) pair.upstream.write(chunk);
      pair.held = [];
    }
  }

  /** Destroys every proxied connection at once; held bytes are lost. */
  cutAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Open proxied connections. */
  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cutAll();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, "127.0.0.1");
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      if (this.held) pair.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.pipe(client);
    // Either side closing closes the other, as a real network path would.
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  }
}
