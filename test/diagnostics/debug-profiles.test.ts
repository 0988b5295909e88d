// /debug/timebound/ as Go's /debug/pprof/: goroutine (pprof, ?debug=1|2 text), a CPU profile of
// the next N seconds and a heap sampling profile, both pprof that go tool pprof reads.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { type CancelableContext, background, withCancel } from "../../src/index.js";
import { debugHandler } from "../../src/diagnostics/http-handler.js";
import { type Tracking, track } from "../../src/diagnostics/track.js";

interface Decoded {
  readonly types: string[];
  readonly defaultType: string;
  /** Function names of each sample, leaf first, with its values. */
  readonly samples: { functions: string[]; values: number[] }[];
}

function decode(body: Buffer): Decoded {
  const profile = Profile.decode(gunzipSync(body));
  const str = (i: number | bigint): string => profile.stringTable.strings[Number(i)] ?? "";
  const fnById = new Map(profile.function.map((f) => [Number(f.id), str(f.name)]));
  const locById = new Map(
    profile.location.map((l) => [Number(l.id), fnById.get(Number(l.line[0]?.functionId)) ?? ""]),
  );
  return {
    types: profile.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`),
    defaultType: str(profile.defaultSampleType),
    samples: profile.sample.map((s) => ({
      functions: s.locationId.map((id) => locById.get(Number(id)) ?? ""),
      values: s.value.map(Number),
    })),
  };
}

/** Total of value `index` over the samples whose stack holds `fn`. */
function weightOf(d: Decoded, fn: string, index: number): number {
  return d.samples
    .filter((s) => s.functions.includes(fn))
    .reduce((sum, s) => sum + (s.values[index] ?? 0), 0);
}

/** Keeps the CPU busy in `burnCpu` for `ms`, yielding every few ms so requests are served. */
async function burnCpu(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const slice = performance.now() + 5;
    let x = 0;
    while (performance.now() < slice) x += Math.sqrt(x + 1);
    await new Promise((resolve) => setImmediate(resolve, x));
  }
}

const kept: unknown[] = [];
/** Allocates and keeps arrays for `ms`, so the heap profile sees live allocations here. */
async function retainBlobs(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) kept.push(new Array(512).fill(i));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("/debug/timebound/ Go-style routes", () => {
  let tracking: Tracking;
  let server: Server;
  let base: string;
  const live: CancelableContext[] = [];

  function acceptSession(): CancelableContext {
    return withCancel(background(), { name: "session" });
  }

  before(async () => {
    tracking = track({ timers: false, dumpSignal: false });
    for (let i = 0; i < 3; i++) live.push(acceptSession());
    const debug = debugHandler({ otherPaths: "404" });
    server = createServer((req, res) => void debug(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debug/timebound`;
  });

  after(async () => {
    for (const c of live) c.cancel();
    kept.length = 0;
    tracking.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = async (path: string): Promise<{ status: number; body: Buffer; text: string }> => {
    const res = await fetch(`${base}${path}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body, text: body.toString("utf8") };
  };

  it("goroutine: pprof by default (count first), grouped text with ?debug=1, every item with ?debug=2", async () => {
    const pprof = await get("/goroutine");
    assert.equal(pprof.status, 200);
    const d = decode(pprof.body);
    assert.equal(d.defaultType, "count");
    assert.equal(weightOf(d, "acceptSession", 0), 3, "the three sessions, by count");
    const one = await get("/goroutine?debug=1");
    assert.match(one.text, /\n3 @ withCancel "session" \(no deadline\), oldest /);
    const two = await get("/goroutine?debug=2");
    assert.equal(two.text.match(/context \d+ "session" \[withCancel, live/g)?.length, 3);
    const bad = await get("/goroutine?debug=3");
    assert.equal(bad.status, 400);
    assert.match(bad.text, /debug must be 0, 1 or 2, got "3"/);
    assert.match((await get("/")).text, /goroutine.*profile.*heap/s, "the index lists them");
  });

  it("profile?seconds=N: a CPU profile in pprof naming the hot function; one at a time", async () => {
    const [got, busy] = await Promise.all([
      get("/profile?seconds=0.8"),
      new Promise((resolve) => setImmediate(resolve)).then(() => get("/profile?seconds=0.2")),
      burnCpu(900),
    ]);
    assert.equal(got.status, 200, got.text);
    const d = decode(got.body);
    assert.deepEqual(d.types, ["samples/count", "cpu/nanoseconds"]);
    assert.equal(d.defaultType, "cpu");
    const total = d.samples.reduce((n, s) => n + (s.values[0] ?? 0), 0);
    const hot = weightOf(d, "burnCpu", 0);
    assert.ok(hot > total * 0.2, `burnCpu in ${hot} of ${total} samples`);
    assert.equal(busy.status, 409, "a second CPU profile while one runs");
    assert.match(busy.text, /a CPU profile is already being taken/);
    const bad = await get("/profile?seconds=soon");
    assert.equal(bad.status, 400);
    assert.match(bad.text, /seconds must be a number from 0\.1 to 600, got "soon"/);

    const go = spawnSync("go", ["version"], { encoding: "utf8" });
    if (go.status !== 0) return; // go tool pprof reads it too, where a toolchain is present
    const dir = mkdtempSync(join(tmpdir(), "timebound-cpu-"));
    try {
      writeFileSync(join(dir, "cpu.pb.gz"), got.body);
      const top = execFileSync(
        "go",
        ["tool", "pprof", "-symbolize=none", "-top", "-cum", join(dir, "cpu.pb.gz")],
        {
          cwd: dir,
          encoding: "utf8",
          timeout: 60_000,
          env: {
            PATH: process.env.PATH ?? "",
            HOME: dir,
            GOCACHE: join(dir, "cache"),
            GOTOOLCHAIN: "local",
            GOPROXY: "off",
            PPROF_TMPDIR: dir,
          },
        },
      );
      assert.match(top, /Type: cpu/);
      assert.match(top, /burnCpu$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("heap?seconds=N: sampled live allocations by stack, in pprof", async () => {
    const [got] = await Promise.all([get("/heap?seconds=0.5"), retainBlobs(600)]);
    assert.equal(got.status, 200, got.text);
    const d = decode(got.body);
    assert.deepEqual(d.types, ["inuse_objects/count", "inuse_space/bytes"]);
    assert.equal(d.defaultType, "inuse_space");
    assert.ok(weightOf(d, "retainBlobs", 1) > 100_000, "the retained arrays, at their site");
  });

  it("cmdline: the command line, NUL-separated", async () => {
    const got = await get("/cmdline");
    assert.deepEqual(got.text.split("\u0000"), process.argv);
  });
});
