import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { groupStacks, toFolded } from "../../src/diagnostics/folded.js";
import type { Frame, Snapshot, TrackedContext } from "../../src/diagnostics/model.js";

const at = (functionName: string, line: number, file = "/srv/app.js"): Frame => ({
  functionName,
  file,
  line,
  column: 7,
});

function context(id: number, stack: Frame[], kind = "withCancel", name?: string): TrackedContext {
  return { id, name, kind, parentId: undefined, createdAt: 1_000, deadline: undefined, stack };
}

function snapshotOf(parts: Partial<Snapshot>): Snapshot {
  return {
    takenAt: 5_000,
    takenAtWall: "2025-01-02T03:04:05.000Z",
    pid: 7,
    contexts: [],
    operations: [],
    findings: [],
    samples: [],
    omitted: { contexts: 0, operations: 0, findings: 0 },
    ...parts,
  };
}

const leaky = [at("startWorker", 12), at("main", 40)];
const healthy = [at("handle", 30), at("main", 41)];

describe("toFolded", () => {
  it("writes one line per stack, outermost frame first, with item counts", () => {
    const snapshot = snapshotOf({
      contexts: [
        context(1, leaky),
        context(2, leaky),
        context(3, leaky),
        context(4, healthy, "withTimeout"),
      ],
      operations: [
        {
          id: 1,
          kind: "sleep",
          contextId: 1,
          contextName: "poller",
          startedAt: 2_000,
          contextEndedAt: 3_000,
          stack: [at("poll", 5), at("main", 42)],
        },
      ],
      findings: [{ kind: "never-canceled", message: "m", stack: leaky, ageMs: 4_000 }],
    });
    assert.equal(
      toFolded(snapshot),
      [
        "[context withCancel];main (/srv/app.js:40:7);startWorker (/srv/app.js:12:7) 3",
        "[context withTimeout];main (/srv/app.js:41:7);handle (/srv/app.js:30:7) 1",
        "[operation sleep];main (/srv/app.js:42:7);poll (/srv/app.js:5:7) 1",
        "",
      ].join("\n"),
      "live items only: the finding about those three contexts does not count them again",
    );
    assert.equal(
      toFolded(snapshot, { items: "findings" }),
      "[finding never-canceled];main (/srv/app.js:40:7);startWorker (/srv/app.js:12:7) 1\n",
    );
  });

  it("weighs a finding by what it found, only in the findings' own profile", () => {
    const snapshot = snapshotOf({
      contexts: [context(1, leaky)],
      findings: [
        { kind: "lost-cancel", message: "m", stack: leaky, ageMs: 10, details: { count: 50 } },
      ],
    });
    assert.equal(
      toFolded(snapshot, { items: "findings" }),
      "[finding lost-cancel];main (/srv/app.js:40:7);startWorker (/srv/app.js:12:7) 50\n",
    );
    assert.equal(total(toFolded(snapshot, { items: "all" })), 51);
    assert.throws(
      () => toFolded(snapshot, { items: "some" as "all" }),
      /toFolded: options\.items must be one of "live", "findings", "all"/,
    );
  });

  it("names anonymous functions by file and line, and a module's top level", () => {
    const stack = [
      at("", 12, "/srv/jobs/poll.js"),
      at("<anonymous>", 30),
      at("Object.<anonymous>", 5, "/srv/cjs.js"),
    ];
    assert.equal(
      toFolded(snapshotOf({ contexts: [context(1, stack)] })),
      "[context withCancel];(top level cjs.js) (/srv/cjs.js:5:7);(anonymous app.js:30) (/srv/app.js:30:7);(anonymous poll.js:12) (/srv/jobs/poll.js:12:7) 1\n",
    );
    const esm = [at("handler", 8), at("", 2, "/srv/main.mjs")];
    assert.match(
      toFolded(snapshotOf({ contexts: [context(1, esm)] })),
      /^\[context withCancel\];\(top level main\.mjs\) \(\/srv\/main\.mjs:2:7\);handler /,
      "the outermost anonymous frame of an ES module is its top level",
    );
  });

  it("gives an empty string for an empty snapshot", () => {
    assert.equal(toFolded(snapshotOf({})), "");
  });

  it("counts what the tracker left out under [omitted …] roots", () => {
    const text = toFolded(
      snapshotOf({
        contexts: [context(1, leaky)],
        omitted: { contexts: 40, operations: 0, findings: 2 },
      }),
      { items: "all" },
    );
    assert.match(text, /^\[omitted contexts\] 40$/m);
    assert.match(text, /^\[omitted findings\] 2$/m);
    assert.doesNotMatch(text, /omitted operations/);
  });

  it("keeps frame separators and line breaks out of frames, and unicode in", () => {
    const odd = [at("a;b\nc\td", 1, "/srv/we;ird.js"), at("日本語 → ünïcode", 2), at("", 3)];
    const text = toFolded(snapshotOf({ contexts: [context(1, odd)] }));
    assert.equal(text.split("\n").length, 2);
    assert.equal(
      text,
      "[context withCancel];(top level app.js) (/srv/app.js:3:7);日本語 → ünïcode (/srv/app.js:2:7);a_b_c_d (/srv/we_ird.js:1:7) 1\n",
    );
  });

  it("stays bounded: beyond maxStacks the smallest stacks merge into [omitted stacks]", () => {
    const contexts = Array.from({ length: 500 }, (_, i) => context(i, [at(`f${i % 50}`, i % 50)]));
    const text = toFolded(snapshotOf({ contexts }), { maxStacks: 10 });
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 10);
    assert.equal(total(text), 500);
    assert.match(text, /^\[omitted stacks\] 410$/m);
  });

  it("rejects a maxStacks out of range, naming it", () => {
    assert.throws(
      () => toFolded(snapshotOf({}), { maxStacks: 0 }),
      /toFolded: options\.maxStacks must be an integer/,
    );
    assert.throws(
      () => toFolded(snapshotOf({}), { maxStacks: 1.5 }),
      /maxStacks must be an integer/,
    );
  });

  it("folds 100,000 items quickly and into bounded text", () => {
    const contexts = Array.from({ length: 100_000 }, (_, i) =>
      context(i, [at(`handler${i}`, i), at("route", 9), at("main", 1)]),
    );
    const started = performance.now();
    const text = toFolded(snapshotOf({ contexts }));
    const elapsed = performance.now() - started;
    // Generous for 2 shared cores; a quadratic slip would take minutes.
    assert.ok(elapsed < 15_000, `took ${elapsed.toFixed(0)} ms`);
    assert.equal(text.trimEnd().split("\n").length, 10_000);
    assert.ok(text.length < 2_000_000, `${text.length} bytes`);
    assert.equal(total(text), 100_000);
  });

  it("counts always add up to the items and every line parses (property)", () => {
    const frame = fc.record({
      functionName: fc.string({ maxLength: 12 }),
      file: fc.constantFrom("", "/a.js", "C:\\b;c.ts", "/ü/d.mjs"),
      line: fc.nat(500),
      column: fc.nat(80),
    });
    const stack = fc.array(frame, { maxLength: 5 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stack, fc.constantFrom("withCancel", "withTimeout")), { maxLength: 40 }),
        fc.array(
          fc.tuple(
            stack,
            fc.constantFrom<"never-canceled" | "leaked-timer">("never-canceled", "leaked-timer"),
          ),
          {
            maxLength: 10,
          },
        ),
        fc.nat(30),
        fc.integer({ min: 1, max: 60 }),
        (ctxs, finds, omittedContexts, maxStacks) => {
          const snapshot = snapshotOf({
            contexts: ctxs.map(([s, kind], i) => context(i, s, kind)),
            findings: finds.map(([s, kind]) => ({ kind, message: "", stack: s, ageMs: 1 })),
            omitted: { contexts: omittedContexts, operations: 0, findings: 0 },
          });
          const text = toFolded(snapshot, { maxStacks, items: "all" });
          assert.equal(total(text), ctxs.length + finds.length + omittedContexts);
          const lines = text === "" ? [] : text.trimEnd().split("\n");
          assert.ok(lines.length <= maxStacks);
          for (const line of lines) assert.match(line, /^\[[^;\n]+\](;[^;\n]+)* \d+$/);
        },
      ),
    );
  });
});

describe("groupStacks", () => {
  it("orders groups by count and splits by context name only when asked", () => {
    const snapshot = snapshotOf({
      contexts: [
        context(1, leaky, "withCancel", "a"),
        context(2, leaky, "withCancel", "b"),
        context(3, leaky, "withCancel", "b"),
        context(4, healthy),
      ],
    });
    const merged = groupStacks(snapshot);
    assert.deepEqual(
      merged.map((g) => [g.root, g.count, g.contextName, g.totalAgeMs]),
      [
        ["[context withCancel]", 3, undefined, 12_000],
        ["[context withCancel]", 1, undefined, 4_000],
      ],
    );
    const split = groupStacks(snapshot, { byContextName: true });
    assert.deepEqual(
      split.map((g) => [g.count, g.contextName]),
      [
        [2, "b"],
        [1, undefined],
        [1, "a"],
      ],
    );
  });
});

function total(folded: string): number {
  return folded
    .split("\n")
    .filter((line) => line !== "")
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}
