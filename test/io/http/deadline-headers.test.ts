// contextFrom reads every deadline header it is told to trust (by default timebound's,
// gRPC's and Envoy's) and takes the earliest deadline they give, cut to maxTimeoutMs; a
// malformed value is ignored, never trusted.
import assert from "node:assert/strict";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import {
  DEADLINE_HEADERS,
  type RequestContextOptions,
  contextFrom,
  timeLeftFromHeaders,
} from "../../../src/io/http/index.js";

describe("deadline headers on the way in", () => {
  let server: Server;
  let url: string;
  let options: RequestContextOptions | undefined;

  before(async () => {
    server = createServer((req, res) => {
      using ctx = contextFrom(req, res, options);
      res.end(String(Math.round(ctx.remaining())));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  async function left(headers: Record<string, string>, o?: RequestContextOptions): Promise<number> {
    options = o;
    const res = await request(url, { headers });
    return Number(await res.body.text());
  }

  it("reads timebound's, gRPC's and Envoy's headers by default; the earliest wins", async () => {
    assert.deepEqual(DEADLINE_HEADERS, [
      "timebound-timeout",
      "grpc-timeout",
      "x-envoy-expected-rq-timeout-ms",
    ]);
    const ms = await left({
      "timebound-timeout": "5S",
      "grpc-timeout": "2S",
      "x-envoy-expected-rq-timeout-ms": "700",
    });
    assert.ok(ms > 600 && ms <= 700, `Envoy's 700 ms is the earliest; got ${ms}`);
    const grpc = await left({ "grpc-timeout": "300m" });
    assert.ok(grpc > 200 && grpc <= 300, `grpc-timeout alone: ${grpc}`);
  });

  it("ignores a malformed value and uses the others or the default", async () => {
    const ms = await left({ "x-envoy-expected-rq-timeout-ms": "1e3", "grpc-timeout": "800m" });
    assert.ok(ms > 700 && ms <= 800, `the malformed Envoy value is ignored: ${ms}`);
    const none = await left({ "x-envoy-expected-rq-timeout-ms": "-5" }, { defaultTimeoutMs: 1234 });
    assert.ok(
      none > 1100 && none <= 1234,
      `only a malformed header: the default applies (${none})`,
    );
  });

  it("reads only the headers listed, and none with false; cut to maxTimeoutMs", async () => {
    const only = await left(
      { "grpc-timeout": "100m", "timebound-timeout": "900m" },
      { header: ["timebound-timeout"] },
    );
    assert.ok(only > 800 && only <= 900, `grpc-timeout not listed: ${only}`);
    const off = await left(
      { "timebound-timeout": "100m" },
      { header: false, defaultTimeoutMs: 2000 },
    );
    assert.ok(off > 1900, `header false: the default (${off})`);
    const cut = await left({ "grpc-timeout": "10M" }, { maxTimeoutMs: 500 });
    assert.ok(cut > 400 && cut <= 500, `cut to maxTimeoutMs: ${cut}`);
  });

  it("refuses a bad header option, naming it", () => {
    const res = { once() {}, writableFinished: false } as never;
    const req = { headers: {} as IncomingHttpHeaders, socket: {} } as never;
    assert.throws(
      () => contextFrom(req, res, { header: [] as string[] }),
      /contextFrom: options\.header must list at least one header name/,
    );
    assert.throws(
      () => contextFrom(req, res, { header: ["ok", "bad name"] }),
      /contextFrom: options\.header\[1\] must be a header name/,
    );
  });

  it("timeLeftFromHeaders is the same rule for code that reads headers itself", () => {
    assert.equal(
      timeLeftFromHeaders(
        { "grpc-timeout": "2S", "x-envoy-expected-rq-timeout-ms": "1500" },
        DEADLINE_HEADERS,
      ),
      1500,
    );
    assert.equal(timeLeftFromHeaders({ "grpc-timeout": "2S" }, ["timebound-timeout"]), undefined);
    assert.equal(
      timeLeftFromHeaders({ "x-envoy-expected-rq-timeout-ms": "12abc" }, DEADLINE_HEADERS),
      undefined,
    );
  });
});
