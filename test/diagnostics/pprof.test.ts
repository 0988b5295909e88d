import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { Profile } from "pprof-format";
import { PPROF_SAMPLE_TYPES, toPprof } from "../../src/diagnostics/pprof.js";
import type { Frame, Snapshot } from "../../src/diagnostics/model.js";

const frame = (functionName: string, line: number): Frame => ({
  functionName,
  file: "/srv/orders.ts",
  line,
  column: 3,
});
const leakStack = [frame("subscribeForever", 21), frame("bootstrap", 80)];
const requestStack = [frame("handleOrder", 44), frame("bootstrap", 81)];

/** 4 leaked "poller" contexts aged 9 s, 1 request context aged 1 s, 1 sleep, 1 finding. */
const snapshot: Snapshot = {
  takenAt: 10_000,
  takenAtWall: "2025-03-04T05:06:07.000Z",
  pid: 4242,
  contexts: [
    ...[1, 2, 3, 4].map((id) => ({
      id,
      name: "poller",
      kind: "withCancel",
      parentId: undefined,
      createdAt: 1_000,
      deadline: undefined,
      stack: leakStack,
    })),
    {
      id: 5,
      name: undefined,
      kind: "withTimeout",
      parentId: undefined,
      createdAt: 9_000,
      deadline: 9_500,
      stack: requestStack,
    },
  ],
  operations: [
    {
      id: 1,
      kind: "sleep",
      contextId: 5,
      contextName: "",
      startedAt: 9_500,
      contextEndedAt: undefined,
      stack: [frame("backoff", 60), ...requestStack],
    },
  ],
  findings: [
    {
      kind: "never-canceled",
      message: "never canceled",
      stack: leakStack,
      ageMs: 9_000,
      contextName: "poller",
    },
  ],
  samples: [],
  omitted: { contexts: 0, operations: 0, findings: 0 },
};

interface DecodedSample {
  readonly functions: string[];
  readonly lines: number[];
  readonly values: number[];
  readonly labels: Record<string, string>;
}

/** Gunzips and decodes with pprof-format, resolving ids and string indexes. */
function decode(gz: Buffer): {
  profile: Profile;
  str: (i: number | bigint) => string;
  samples: DecodedSample[];
} {
  const profile = Profile.decode(gunzipSync(gz));
  const strings = profile.stringTable.strings;
  const str = (i: number | bigint): string => strings[Number(i)] ?? `<bad string ${i}>`;
  const functions = new Map(profile.function.map((f) => [Number(f.id), f]));
  const locations = new Map(profile.location.map((l) => [Number(l.id), l]));
  const samples = profile.sample.map((s) => {
    const lines = s.locationId.map((id) => {
      const line = locations.get(Number(id))?.line[0];
      assert.ok(line !== undefined, `location ${id} exists and has a line`);
      return line;
    });
    return {
      functions: lines.map((l) => str(functions.get(Number(l.functionId))?.name ?? 0)),
      lines: lines.map((l) => Number(l.line)),
      values: s.value.map(Number),
      labels: Object.fromEntries(s.label.map((l) => [str(l.key), str(l.str)])),
    };
  });
  return { profile, str, samples };
}

describe("toPprof", () => {
  it("gunzips and decodes with the expected stacks, counts, ages and labels", async () => {
    const { samples } = decode(await toPprof(snapshot));
    const byStack = new Map(samples.map((s) => [s.functions.join(" < "), s]));
    assert.deepEqual(byStack.get("subscribeForever < bootstrap < [context withCancel]"), {
      functions: ["subscribeForever", "bootstrap", "[context withCancel]"],
      lines: [21, 80, 0],
      values: [4, 36_000],
      labels: { item: "context", kind: "withCancel", context: "poller" },
    });
    const summary = (stack: string): [number[] | undefined, Record<string, string> | undefined] => [
      byStack.get(stack)?.values,
      byStack.get(stack)?.labels,
    ];
    assert.deepEqual(summary("handleOrder < bootstrap < [context withTimeout]"), [
      [1, 1_000],
      { item: "context", kind: "withTimeout" },
    ]);
    // An empty context name carries no label: string 0 would read as a numeric label.
    assert.deepEqual(summary("backoff < handleOrder < bootstrap < [operation sleep]"), [
      [1, 500],
      { item: "operation", kind: "sleep" },
    ]);
    assert.equal(samples.length, 3, "live items only: the finding is in a profile of its own");
    const findings = decode(await toPprof(snapshot, { items: "findings" })).samples;
    assert.deepEqual(
      findings.map((s) => [s.functions.join(" < "), s.values, s.labels]),
      [
        [
          "subscribeForever < bootstrap < [finding never-canceled]",
          [1, 9_000],
          { item: "finding", kind: "never-canceled", context: "poller" },
        ],
      ],
    );
  });

  it("puts count first and makes it the default, as Go's goroutine profile; age in ms second", async () => {
    const { profile, str } = decode(await toPprof(snapshot));
    assert.deepEqual(
      profile.sampleType.map((t) => ({ type: str(t.type), unit: str(t.unit) })),
      PPROF_SAMPLE_TYPES,
    );
    assert.deepEqual(PPROF_SAMPLE_TYPES, [
      { type: "count", unit: "count" },
      { type: "age", unit: "milliseconds" },
    ]);
    assert.equal(str(profile.defaultSampleType), "count");
    assert.equal(profile.stringTable.strings[0], "");
    assert.equal(str(profile.periodType?.type ?? 0), "count");
    assert.equal(Number(profile.period), 1);
    assert.equal(BigInt(profile.timeNanos), BigInt(Date.parse(snapshot.takenAtWall)) * 1_000_000n);
    assert.equal(Number(profile.durationNanos), 9_000 * 1e6);
    assert.match(profile.comment.map(str).join("\n"), /pid 4242/);
  });

  it("keeps names with quotes, markup and unicode intact, each string stored once", async () => {
    const odd = ['say "hi"', "<script>x</script>", "日本語 ✓", "a\nb"];
    const { samples, profile } = decode(
      await toPprof({
        ...snapshot,
        contexts: odd.map((name, id) => ({
          ...snapshot.contexts[0]!,
          id,
          name,
          stack: [frame(name, 1)],
        })),
        operations: [],
        findings: [],
      }),
    );
    assert.deepEqual(samples.map((s) => s.functions[0]).sort(), [...odd].sort());
    assert.deepEqual(samples.map((s) => s.labels.context).sort(), [...odd].sort());
    const strings = profile.stringTable.strings;
    assert.equal(new Set(strings).size, strings.length, "no duplicate strings");
  });

  it("encodes an empty snapshot as a valid profile with no samples", async () => {
    const { profile, str } = decode(
      await toPprof({
        ...snapshot,
        contexts: [],
        operations: [],
        findings: [],
        takenAtWall: "not a date",
      }),
    );
    assert.equal(profile.sample.length, 0);
    assert.equal(profile.sampleType.length, 2);
    assert.equal(str(profile.defaultSampleType), "count");
    assert.equal(Number(profile.timeNanos), 0);
  });

  it("stays fast and bounded with 100,000 distinct stacks", async () => {
    const contexts = Array.from({ length: 100_000 }, (_, id) => ({
      ...snapshot.contexts[0]!,
      id,
      stack: [frame(`worker${id}`, id), frame("bootstrap", 80)],
    }));
    const started = performance.now();
    const gz = await toPprof({
      ...snapshot,
      contexts,
      omitted: { contexts: 7, operations: 0, findings: 0 },
    });
    const elapsed = performance.now() - started;
    // Generous for 2 shared cores; a quadratic slip would take minutes.
    assert.ok(elapsed < 20_000, `took ${elapsed.toFixed(0)} ms`);
    assert.ok(gz.length < 1_000_000, `${gz.length} bytes gzipped`);
    const { samples } = decode(gz);
    assert.equal(samples.length, 10_000);
    assert.equal(sum(samples.map((s) => s.values[0] ?? 0)), 100_000 + 7 + 1, "and the sleep");
    assert.ok(samples.some((s) => s.functions[0] === "[omitted stacks]"));
    assert.ok(samples.some((s) => s.functions[0] === "[omitted contexts]" && s.values[0] === 7));
  });

  it("rejects a maxStacks out of range, naming it", async () => {
    await assert.rejects(
      toPprof(snapshot, { maxStacks: -1 }),
      /toPprof: options\.maxStacks must be an integer/,
    );
  });

  it("sample counts add up to the items, and every location resolves (property)", async () => {
    const stacks = fc.array(
      fc.record({
        functionName: fc.string({ maxLength: 8 }),
        file: fc.string({ maxLength: 8 }),
        line: fc.nat(99),
        column: fc.nat(9),
      }),
      { maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(stacks, fc.option(fc.string({ maxLength: 5 }), { nil: undefined })), {
          maxLength: 30,
        }),
        async (items) => {
          const contexts = items.map(([stack, name], id) => ({
            ...snapshot.contexts[0]!,
            id,
            name,
            stack,
          }));
          const { samples } = decode(
            await toPprof({ ...snapshot, contexts, operations: [], findings: [] }),
          );
          assert.equal(sum(samples.map((s) => s.values[0] ?? 0)), items.length);
          for (const s of samples) assert.equal(s.values.length, 2);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("is read by `go tool pprof -top` when a go toolchain is present", async (t) => {
    const version = spawnSync("go", ["version"], { encoding: "utf8" });
    if (version.status !== 0) {
      t.skip("no go toolchain (`go version` failed); CI installs golang-go to run this");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "timebound-pprof-"));
    try {
      const file = join(dir, "leaks.pb.gz");
      writeFileSync(file, await toPprof(snapshot));
      // A throwaway HOME, cache and GOPATH; no toolchain download, no module proxy: offline.
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        GOCACHE: join(dir, "cache"),
        GOPATH: join(dir, "gopath"),
        GOTOOLCHAIN: "local",
        GOPROXY: "off",
        GOFLAGS: "",
        PPROF_TMPDIR: dir,
      };
      const run = (...args: string[]): string =>
        execFileSync("go", ["tool", "pprof", "-symbolize=none", ...args, file], {
          cwd: dir,
          env,
          encoding: "utf8",
          timeout: 60_000,
        });
      // The default is the count, as in Go's goroutine profile: 4 of the 6 live items.
      const byCount = run("-top");
      assert.match(byCount, /Type: count/);
      assert.match(byCount, /^\s*4\s+66\.67%.*subscribeForever$/m);
      // 4 contexts of 9 s of 37.5 s in all (the request's 1 s, the sleep's 0.5 s).
      const byAge = run("-top", "-sample_index=age");
      assert.match(byAge, /^\s*36000ms\s+96(\.00)?%.*subscribeForever$/m);
      const tagged = run("-top", "-tagfocus=context=poller");
      assert.match(tagged, /Showing nodes accounting for 4, /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
