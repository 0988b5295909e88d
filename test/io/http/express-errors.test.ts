import assert from "node:assert/strict";
import { type IncomingMessage, type Server, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { format, inspect } from "node:util";
import express from "express";
import { Canceled, DeadlineExceeded, background, sleep, withCancel } from "../../../src/index.js";
import {
  ClientDisconnectedError,
  contextOf,
  expressContext,
  expressErrorHandler,
} from "../../../src/io/http/index.js";
import { closeServer, within } from "./servers.js";

/** What a raw client got: the status and body, or how the connection ended without them. */
function get(url: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = new Promise<string>((resolve) => {
    const req = request(url, { headers });
    req.on("error", (err) => resolve(`no answer (${err.message})`));
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
      res.on("aborted", () => resolve(`${res.statusCode} cut off after "${body}"`));
    });
    req.end();
  });
  return within(answer, 3_000, `GET ${url}`);
}

/** Sends a GET, waits until `arrived()` holds, then destroys the connection. */
async function leave(url: string, arrived: () => boolean): Promise<void> {
  const req = request(url);
  req.on("error", () => {});
  req.end();
  for (let i = 0; i < 200 && !arrived(); i++) await sleep(background(), 5);
  assert.ok(arrived(), "the request reached its handler");
  req.destroy();
}

/** Runs `fn` with console.error captured; returns what was written (`fn` sees it grow). */
async function capturingConsole(fn: (written: string[]) => Promise<void>): Promise<string[]> {
  const written: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => written.push(format(...args)); // as console prints it
  try {
    await fn(written);
  } finally {
    console.error = original;
  }
  return written;
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe("expressErrorHandler: what the client gets when the request's context ends", () => {
  let server: Server;
  let url: string;
  const logged: { err: unknown; path: string | undefined }[] = [];
  const passedOn: unknown[] = [];
  const thrown: unknown[] = [];
  let arrivals = 0;

  before(async () => {
    const app = express();
    app.use(expressContext({ maxTimeoutMs: 5_000 }));
    const wait = async (req: IncomingMessage): Promise<void> => {
      arrivals++;
      try {
        await sleep(contextOf(req), 10_000);
      } catch (err) {
        thrown.push(err);
        throw err; // Express 5 hands a rejected handler's error to the error middleware
      }
    };
    app.get(["/deadline", "/explained/deadline", "/gone"], wait);
    app.get("/canceled", async (req) => {
      const shutdown = withCancel(contextOf(req), { name: "shutdown" });
      shutdown.cancel(new Error("shutting down: internal-db-7 drained"));
      await sleep(shutdown, 10);
    });
    app.get("/streaming", async (req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      await wait(req);
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    const log = (err: unknown, req: IncomingMessage) => logged.push({ err, path: req.url });
    const plain = expressErrorHandler({ log });
    const explained = expressErrorHandler({ log, explain: true });
    app.use(
      (err: unknown, req: IncomingMessage, res: express.Response, next: express.NextFunction) =>
        req.url!.startsWith("/explained")
          ? explained(err, req, res, next)
          : plain(err, req, res, next),
    );
    app.use((err: unknown, _req: IncomingMessage, res: express.Response, _next: unknown) => {
      passedOn.push(err);
      res.status(500).send("passed on");
    });
    ({ server, url } = await listen(app));
  });
  after(() => closeServer(server));

  it("answers a DeadlineExceeded with 504 and a short fixed body; the explanation goes to the log only", async () => {
    logged.length = 0;
    assert.equal(
      await get(`${url}/deadline`, { "timebound-timeout": "100m" }),
      "504 deadline exceeded",
    );
    assert.equal(logged.length, 1, "logged once");
    const err = logged[0]!.err;
    assert.ok(err instanceof DeadlineExceeded, String(err));
    assert.match(err.message, /context "GET \/deadline" \(timeout 100 ms\) exceeded its deadline/);
  });

  it("sends the explanation only when asked to (explain: true)", async () => {
    const answer = await get(`${url}/explained/deadline`, { "timebound-timeout": "100m" });
    assert.match(answer, /^504 context "GET \/explained\/deadline" \(timeout 100 ms\) exceeded/);
  });

  it("answers a Canceled of another cause (a shutdown) with 503, without the cause", async () => {
    logged.length = 0;
    assert.equal(await get(`${url}/canceled`), "503 request canceled");
    assert.ok(logged[0]?.err instanceof Canceled, "logged");
    assert.match(String(logged[0].err), /internal-db-7/, "the cause stays in the log");
  });

  it("closes quietly when the client left: no body, no log, nothing passed on", async () => {
    logged.length = 0;
    const [arrived, before] = [arrivals, thrown.length];
    const written = await capturingConsole(async () => {
      await leave(`${url}/gone`, () => arrivals > arrived);
      for (let i = 0; i < 100 && thrown.length === before; i++) await sleep(background(), 5);
      await sleep(background(), 50); // time for a log line or a passed-on error to show
    });
    const err = thrown.at(-1);
    assert.ok(err instanceof Canceled && err.cause instanceof ClientDisconnectedError, "thrown");
    assert.deepEqual([logged, passedOn, written], [[], [], []]);
  });

  it("cuts off a response already streaming (it cannot carry a status now)", async () => {
    logged.length = 0;
    const answer = await get(`${url}/streaming`, { "timebound-timeout": "100m" });
    assert.equal(answer, '200 cut off after "partial"');
    assert.ok(logged[0]?.err instanceof DeadlineExceeded, "logged");
  });

  it("passes any other error on, untouched", async () => {
    const before = passedOn.length;
    assert.equal(await get(`${url}/boom`), "500 passed on");
    assert.equal((passedOn[before] as Error).message, "boom");
  });

  it("checks its options when it is made", () => {
    assert.throws(
      () => expressErrorHandler({ explain: "yes" as never }),
      /^TypeError: expressErrorHandler: options.explain must be true or false, got "yes"/,
    );
    assert.throws(
      () => expressErrorHandler({ log: 1 as never }),
      /expressErrorHandler: options.log must be a function or false, got 1/,
    );
    assert.throws(() => expressErrorHandler({ explian: true } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: "expressErrorHandler: unknown option options.explian (known: explain, log)",
    });
  });
});

describe("Express's own error handler, without expressErrorHandler", () => {
  it("logs a client's disconnect in three lines, not the explanation's structure or stacks", async () => {
    const thrown: unknown[] = [];
    let arrived = false;
    const app = express();
    app.set("env", "development"); // Express logs errors unless its env is "test"
    app.use(expressContext());
    app.get("/gone", async (req) => {
      arrived = true;
      try {
        await sleep(contextOf(req), 10_000);
      } catch (err) {
        thrown.push(err);
        throw err;
      }
    });
    const { server, url } = await listen(app);
    try {
      const written = await capturingConsole(async (sofar) => {
        await leave(`${url}/gone`, () => arrived);
        for (let i = 0; i < 100 && sofar.length === 0; i++) await sleep(background(), 5);
      });
      assert.equal(written.length, 1, "Express logged the error once");
      const lines = written[0]!.split("\n");
      assert.ok(lines.length <= 3, `Express logged ${lines.length} lines:\n${written[0]}`);
      assert.match(
        lines[0]!,
        /^\[?Canceled \[AbortError\]: context "GET \/gone" .*client disconnected/,
      );
      assert.equal(inspect(thrown[0]), written[0]);
    } finally {
      await closeServer(server);
    }
  });
});
