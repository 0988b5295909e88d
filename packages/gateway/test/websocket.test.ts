// Upgrades passed through on routes that allow them: bytes both ways, closed at the route's
// maximum lifetime, refused where the route does not allow them.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import { type AddressInfo, type Socket, connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseConfig, startGateway, type RunningGateway } from "../src/index.js";

function openUpgrade(port: number, path: string): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    const onData = (c: Buffer) => {
      got += c.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end !== -1) {
        socket.off("data", onData);
        resolve({ socket, head: got.slice(0, end) });
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`,
    );
  });
}

describe("WebSocket pass-through", () => {
  let upstream: Server;
  let gw: RunningGateway;
  let port: number;
  let upstreamSockets = 0;

  before(async () => {
    upstream = createServer((_req, res) => res.end("plain"));
    upstream.on("upgrade", (req, socket: Socket) => {
      upstreamSockets++;
      assert.equal(req.headers.upgrade, "websocket");
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
      );
      socket.on("data", (c) => socket.write(c)); // echo
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
upstreams: { u: { targets: ["${origin}"] } }
routes:
  - { path: /ws, upstream: u, websocket: { maxLifetimeMs: 400 } }
  - { path: /plain, upstream: u }
`),
    });
    port = Number(new URL(gw.url).port);
  });

  after(async () => {
    await gw.stop();
    upstream.closeAllConnections();
    upstream.close();
  });

  it("passes the upgrade and bytes both ways", async () => {
    const { socket, head } = await openUpgrade(port, "/ws");
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    const echoed = new Promise<string>((r) => socket.once("data", (c) => r(c.toString())));
    socket.write("ping");
    assert.equal(await echoed, "ping");
    socket.destroy();
  });

  it("closes a connection at the route's maximum lifetime", async () => {
    const { socket } = await openUpgrade(port, "/ws");
    const t0 = performance.now();
    await new Promise((r) => socket.once("close", r));
    const ms = performance.now() - t0;
    assert.ok(ms > 300 && ms < 2_000, `closed after ${Math.round(ms)} ms (lifetime 400 ms)`);
  });

  it("refuses an upgrade on a route that does not allow it, without reaching the upstream", async () => {
    const before = upstreamSockets;
    const { head } = await openUpgrade(port, "/plain");
    assert.match(head, /^HTTP\/1\.1 404/);
    assert.equal(upstreamSockets, before);
  });
});
