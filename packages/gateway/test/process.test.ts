// The gateway as a real process: --check, reload on SIGHUP with requests in flight, a bad
// reload refused with the old configuration kept, SIGTERM draining then canceling.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { request } from "undici";

const CLI = fileURLToPath(new URL("fixtures/cli.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "timebound-gateway-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function upstreamServer(name: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ms = Number(new URL(req.url ?? "/", "http://x").searchParams.get("ms") ?? 0);
    setTimeout(() => res.end(name), ms).unref();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function config(origin: string, extra = ""): string {
  return `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
shutdown: { drainMs: 300 }
upstreams: { u: { targets: ["${origin}"] } }
routes: [{ path: "/*", upstream: u, timeoutMs: 5000 }]
${extra}`;
}

interface Running {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  stderr: () => string;
}

async function startCli(file: string): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--config", file, "--quiet"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const t0 = Date.now();
  while (!/listening on/.test(err)) {
    if (Date.now() - t0 > 20_000 || child.exitCode !== null)
      throw new Error(`gateway did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = /listening on (\S+), admin on (\S+)/.exec(err)!;
  return { child, url: m[1]!.replace(/,$/, ""), adminUrl: m[2]!, stderr: () => err };
}

describe("the gateway process", () => {
  let a: { server: Server; origin: string };
  let b: { server: Server; origin: string };
  before(async () => {
    [a, b] = await Promise.all([upstreamServer("a"), upstreamServer("b")]);
  });
  after(() => {
    for (const s of [a, b]) {
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  it("--check says valid, or lists the problems with exit code 2", () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, config(a.origin));
    const ok = spawnSync(process.execPath, ["--import", "tsx", CLI, "--check", "-c", good], {
      encoding: "utf8",
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /good\.yaml: valid \(1 routes, 1 upstreams\)/);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, config(a.origin).replace("timeoutMs: 5000", "timeoutMs: 0"));
    const no = spawnSync(process.execPath, ["--import", "tsx", CLI, "--check", "-c", bad], {
      encoding: "utf8",
    });
    assert.equal(no.status, 2);
    assert.match(no.stderr, /routes\[0\]\.timeoutMs \(line 5\): must be >= 1, got 0/);
  });

  it("reloads on SIGHUP: in-flight requests finish on the old upstream, new ones go to the new; a bad config is refused and the old one kept", async () => {
    const file = join(dir, "reload.yaml");
    writeFileSync(file, config(a.origin));
    const gw = await startCli(file);
    try {
      const inflight = request(`${gw.url}/x?ms=400`).then((r) => r.body.text());
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(file, config(b.origin));
      gw.child.kill("SIGHUP");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        await (await request(`${gw.url}/y`)).body.text(),
        "b",
        "new requests use the new config",
      );
      assert.equal(await inflight, "a", "the request in flight finished under the old config");

      writeFileSync(file, "routes: [oops");
      gw.child.kill("SIGHUP");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        await (await request(`${gw.url}/z`)).body.text(),
        "b",
        "the old config still serves",
      );
      const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
      assert.match(metrics, /timebound_gateway_config_reloads_total\{result="refused"\} [1-9]/);
      assert.match(metrics, /timebound_gateway_config_reloads_total\{result="applied"\} [1-9]/);
    } finally {
      gw.child.kill("SIGKILL");
    }
  });

  it("on SIGTERM: readyz turns 503, in-flight requests get drainMs, the rest are canceled, exit code 3", async () => {
    const file = join(dir, "drain.yaml");
    writeFileSync(file, config(a.origin));
    const gw = await startCli(file);
    const quick = request(`${gw.url}/q?ms=100`).then(async (r) => ({
      status: r.statusCode,
      body: await r.body.text(),
    }));
    const slow = request(`${gw.url}/s?ms=3000`).then(
      async (r) => ({ status: r.statusCode, body: await r.body.text() }),
      (err: Error) => ({ status: 0, body: err.message }),
    );
    await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((r) => gw.child.once("exit", (code) => r(code)));
    gw.child.kill("SIGTERM");
    assert.deepEqual(
      await quick,
      { status: 200, body: "a" },
      "a request that fits in the drain time finishes",
    );
    const s = await slow;
    assert.notEqual(s.body, "a", "the slow request was cut at the drain deadline");
    assert.equal(
      await exited,
      3,
      `exit code 3 when requests were canceled; stderr: ${gw.stderr()}`,
    );
  });
});
