// The floor for a proxy in Node: node:http in, an undici Pool out, the body streamed both ways,
// no policies. Usage: node bare-proxy.mjs <upstream origin> [headers]. Prints its port.
// "headers" also sends what the gateway adds to every request, written as plainly as possible
// (the client's address and scheme in X-Forwarded-* and Forwarded, a request id, the time left
// in timebound's and Envoy's deadline headers): the floor for a proxy that does header hygiene.
import { createServer } from "node:http";
import { Pool } from "undici";

const pool = new Pool(process.argv[2], { connections: 128, pipelining: 1 });
const withHeaders = process.argv[3] === "headers";
let requests = 0;

function headersOf(req) {
  if (!withHeaders) return req.headers;
  const address = req.socket.remoteAddress;
  const host = req.headers.host;
  return [
    "host",
    host,
    "x-forwarded-for",
    address,
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    host,
    "forwarded",
    `for=${address};proto=http;host="${host}"`,
    "x-request-id",
    `bare-${(++requests).toString(36)}`,
    "timebound-timeout",
    "1990m",
    "x-envoy-expected-rq-timeout-ms",
    "1990",
  ];
}

const server = createServer((req, res) => {
  pool
    .request({
      method: req.method,
      path: req.url,
      headers: headersOf(req),
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
