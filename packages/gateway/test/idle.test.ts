// Idle connections to an upstream close after the upstream's idleTimeoutMs, even when the target
// itself offers to keep them far longer (its Keep-Alive hint is capped): a gateway does not hold
// sockets it no longer uses.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, it } from "node:test";
import { request } from "undici";
import { parseConfig, startGateway } from "../src/index.js";

describe("upstream idle connections", () => {
  it("close after idleTimeoutMs, not after the target's 65 s Keep-Alive hint", async () => {
    const open = new Set<Socket>();
    const upstream = createServer((_req, res) => res.end("ok"));
    upstream.keepAliveTimeout = 65_000; // it says Keep-Alive: timeout=65
    upstream.on("connection", (socket: Socket) => {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const gw = await startGateway({
      config: parseConfig(`
listen: { host: 127.0.0.1, port: 0 }
upstreams:
  u: { targets: ["http://127.0.0.1:${(upstream.address() as AddressInfo).port}"], idleTimeoutMs: 300 }
routes: [{ path: /*, upstream: u }]
`),
    });
    try {
      assert.equal(await (await request(`${gw.url}/x`)).body.text(), "ok");
      assert.equal(open.size, 1, "one upstream connection, kept alive");
      const t0 = performance.now();
      while (open.size > 0 && performance.now() - t0 < 5_000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const ms = performance.now() - t0;
      assert.equal(open.size, 0, "the idle connection was closed");
      assert.ok(ms < 2_000, `closed after ${Math.round(ms)} ms idle (idleTimeoutMs 300)`);
    } finally {
      await gw.stop();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});
