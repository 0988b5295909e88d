import assert from "node:assert/strict";
import { request } from "node:http";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { ContextError, background, sleep, withCancel } from "../../../src/index.js";
import { fastifyContext, fastifyErrorHandler } from "../../../src/io/http/index.js";
import { within } from "./servers.js";

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

interface LogLine {
  level: number;
  msg: string;
  err?: { type: string; message: string };
}

/** A Fastify app logging to `lines`, with the plugin registered with `options`. */
async function appWith(
  lines: LogLine[],
  options: Parameters<typeof fastifyContext>[1],
  routes: (app: FastifyInstance) => void,
): Promise<{ app: FastifyInstance; url: string }> {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  const app = Fastify({ logger: { level: "debug", stream } });
  await app.register(fastifyContext, options);
  routes(app);
  return { app, url: await app.listen({ port: 0, host: "127.0.0.1" }) };
}

const WARN = 40;

describe("fastifyContext's error handler: what the client gets when the request's context ends", () => {
  const lines: LogLine[] = [];
  let app: FastifyInstance;
  let url: string;
  let arrivals = 0;

  const wait = async (request: FastifyRequest): Promise<string> => {
    arrivals++;
    await sleep(request.ctx, 10_000);
    return "slept";
  };

  before(async () => {
    ({ app, url } = await appWith(lines, { maxTimeoutMs: 5_000 }, (app) => {
      app.get("/deadline", wait);
      app.get("/gone", wait);
      app.get("/canceled", async (request) => {
        const shutdown = withCancel(request.ctx, { name: "shutdown" });
        shutdown.cancel(new Error("shutting down: internal-db-7 drained"));
        await sleep(shutdown, 10);
      });
      app.get("/boom", () => {
        throw new Error("boom");
      });
    }));
  });
  after(() => app.close());

  it("answers a DeadlineExceeded with 504 and a fixed description, by default; the explanation is logged", async () => {
    lines.length = 0;
    const answer = await get(`${url}/deadline`, { "timebound-timeout": "100m" });
    assert.equal(
      answer,
      '504 {"statusCode":504,"code":"TIMEBOUND_ERR_DEADLINE_EXCEEDED","error":"Gateway Timeout",' +
        '"message":"deadline exceeded"}',
    );
    const logged = lines.find((l) => l.err !== undefined);
    assert.equal(logged?.level, WARN);
    assert.match(logged.err!.message, /context "GET \/deadline" \(timeout 100 ms\) exceeded/);
  });

  it("answers another Canceled (a shutdown) with 503, without its cause", async () => {
    const answer = await get(`${url}/canceled`);
    assert.match(answer, /^503 .*"message":"request canceled"/);
    assert.doesNotMatch(answer, /internal-db-7|shutdown/);
  });

  it("closes quietly when the client left: nothing at warn or above in the log", async () => {
    lines.length = 0;
    const arrived = arrivals;
    const req = request(`${url}/gone`);
    req.on("error", () => {});
    req.end();
    for (let i = 0; i < 200 && arrivals === arrived; i++) await sleep(background(), 5);
    req.destroy();
    const seen = () => lines.find((l) => l.msg === "client disconnected");
    for (let i = 0; i < 200 && seen() === undefined; i++) await sleep(background(), 5);
    assert.ok(seen() !== undefined, "the handler saw the error");
    assert.deepEqual(
      lines.filter((l) => l.level >= WARN),
      [],
    );
  });

  it("passes any other error to Fastify's own handler", async () => {
    assert.match(await get(`${url}/boom`), /^500 .*"message":"boom"/);
  });
});

describe("fastifyContext's error handler: options", () => {
  it("sends the explanation only when asked to (errorHandler: { explain: true })", async () => {
    const { app, url } = await appWith([], { errorHandler: { explain: true } }, (app) => {
      app.get("/deadline", async (request) => sleep(request.ctx, 10_000));
    });
    try {
      const answer = await get(`${url}/deadline`, { "timebound-timeout": "100m" });
      assert.match(answer, /^504 .*"message":"context \\"GET \/deadline\\" \(timeout 100 ms\)/);
    } finally {
      await app.close();
    }
  });

  it("leaves Fastify's error handler alone with errorHandler: false, and can be called from the user's", async () => {
    const contextErrors = fastifyErrorHandler();
    const { app, url } = await appWith([], { errorHandler: false }, (app) => {
      app.setErrorHandler((err, request, reply) => {
        if (err instanceof ContextError) return contextErrors(err, request, reply);
        return reply.code(500).send("mine");
      });
      app.get("/deadline", async (request) => sleep(request.ctx, 10_000));
      app.get("/boom", () => {
        throw new Error("boom");
      });
    });
    try {
      const answer = await get(`${url}/deadline`, { "timebound-timeout": "100m" });
      assert.match(answer, /^504 .*"message":"deadline exceeded"/);
      assert.equal(await get(`${url}/boom`), "500 mine");
    } finally {
      await app.close();
    }
  });

  it("fails registration on a bad errorHandler option", async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(fastifyContext, { errorHandler: { explain: 1 as never } });
    }, /fastifyContext: options.errorHandler.explain must be true or false, got 1/);
    await app.close();
    assert.throws(
      () => fastifyErrorHandler({ explain: "yes" as never }),
      /fastifyErrorHandler: options.explain must be true or false/,
    );
    assert.throws(() => fastifyErrorHandler({ explian: true } as never), {
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: "fastifyErrorHandler: unknown option options.explian (known: explain)",
    });
  });

  it("fails registration on an unknown option, and takes Fastify's own register options", async () => {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(fastifyContext, { errorHandler: { explian: true } } as never);
      },
      {
        code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
        message: "fastifyContext: unknown option options.errorHandler.explian (known: explain)",
      },
    );
    await app.close();
    const typo = Fastify();
    await assert.rejects(
      async () => {
        await typo.register(fastifyContext, { maxTimeotMs: 5 } as never);
      },
      {
        code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
        message: /^fastifyContext: unknown option options.maxTimeotMs/,
      },
    );
    await typo.close();
    const ok = Fastify();
    await ok.register(fastifyContext, { prefix: "/v1", logLevel: "warn", maxTimeoutMs: 5_000 });
    await ok.ready();
    await ok.close();
  });
});
