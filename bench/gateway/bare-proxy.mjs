// The floor for a proxy in Node: node:http in, an undici Pool out, the body streamed both ways,
// no policies. Usage: node bare-proxy.mjs <upstream origin>. Prints its port.
import { createServer } from "node:http";
import { Pool } from "undici";

const pool = new Pool(process.argv[2], { connections: 128, pipelining: 1 });
const server = createServer((req, res) => {
  pool
    .request({
      method: req.method,
      path: req.url,
      headers: req.headers,
      body: req.method === "GET" ? null : req,
    })
    .then(
      ({ statusCode, headers, body }) => {
        delete headers.connection;
        delete headers["keep-alive"];
        delete headers["transfer-encoding"];
        res.writeHead(statusCode, headers);
        body.pipe(res);
      },
      () => {
        res.statusCode = 502;
        res.end();
      },
    );
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(String(server.address().port)));
