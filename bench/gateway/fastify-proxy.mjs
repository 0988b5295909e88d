// @fastify/http-proxy (over @fastify/reply-from and undici), as its README sets it up.
// Usage: node fastify-proxy.mjs <upstream origin>. Prints its port.
import Fastify from "fastify";
import proxy from "@fastify/http-proxy";

const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: process.argv[2],
  undici: { connections: 128, pipelining: 1 },
});
await app.listen({ port: 0, host: "127.0.0.1" });
console.log(String(app.server.address().port));
