import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { growthSeries, toGrowthCsv, toGrowthSvg } from "../../src/diagnostics/curves.js";
import type { GrowthSample } from "../../src/diagnostics/model.js";
import { growthVerdict } from "../../src/diagnostics/verdict.js";

const MB = 1024 * 1024;

function sample(
  second: number,
  heapMb: number,
  handles: Record<string, number> = {},
  contexts = 0,
): GrowthSample {
  return {
    at: 5_000 + second * 1000,
    heapUsed: heapMb * MB,
    rss: 2 * heapMb * MB,
    handles,
    liveContexts: contexts,
    liveOperations: 1,
  };
}

/** A context leak: contexts and Timeout handles climb, heap follows, TCP stays flat. */
const leaking = Array.from({ length: 30 }, (_, i) =>
  sample(
    i,
    40 + i * 0.5 + (i % 3),
    { Timeout: 2 + i * 3, TCPSocketWrap: 4 + (i % 2) },
    i * 10 + (i % 4),
  ),
);

describe("toGrowthCsv", () => {
  it("writes seconds, MB and counts, one column per handle type by peak", () => {
    const csv = toGrowthCsv([
      sample(0, 10, { TCPSocketWrap: 2 }),
      sample(1.5, 12.25, { Timeout: 9, TCPSocketWrap: 3 }),
    ]);
    assert.equal(
      csv,
      [
        "seconds,heapUsed_mb,rss_mb,liveContexts,liveOperations,handles:Timeout,handles:TCPSocketWrap",
        "0,10,20,0,1,0,2",
        "1.5,12.25,24.5,0,1,9,3",
        "",
      ].join("\n"),
    );
  });

  it("writes the header alone when there are no samples", () => {
    assert.equal(toGrowthCsv([]), "seconds,heapUsed_mb,rss_mb,liveContexts,liveOperations\n");
  });

  it("quotes handle types with commas or quotes; the prefix keeps formulas inert", () => {
    const csv = toGrowthCsv([sample(0, 1, { 'a,"b"': 1, "=HYPERLINK(1)": 2 })]);
    assert.equal(
      csv.split("\n")[0],
      'seconds,heapUsed_mb,rss_mb,liveContexts,liveOperations,handles:=HYPERLINK(1),"handles:a,""b"""',
    );
  });

  it("names the sample and field of bad input", () => {
    assert.throws(
      () => toGrowthCsv([sample(0, 1), { ...sample(1, 1), heapUsed: Number.NaN }]),
      /toGrowthCsv: samples\[1\]\.heapUsed must be a finite number, got NaN/,
    );
    assert.throws(
      () => toGrowthCsv([sample(2, 1), sample(1, 1)]),
      /samples\[1\]\.at \(6000\) is earlier than samples\[0\]\.at \(7000\)/,
    );
    assert.throws(
      () => toGrowthCsv("nope" as unknown as GrowthSample[]),
      /samples must be an array/,
    );
  });
});

describe("growthSeries", () => {
  it("fills missing handle types with 0 and orders them by peak", () => {
    const { series } = growthSeries([sample(0, 1, { A: 1 }), sample(1, 1, { B: 5 })]);
    assert.deepEqual(
      series.map((s) => [s.id, s.values]),
      [
        ["heapUsed", [MB, MB]],
        ["rss", [2 * MB, 2 * MB]],
        ["liveContexts", [0, 0]],
        ["liveOperations", [1, 1]],
        ["handles:B", [0, 5]],
        ["handles:A", [1, 0]],
      ],
    );
  });
});

describe("toGrowthSvg", () => {
  it("draws one line per series with axes and a legend that carries the verdicts", () => {
    const svg = toGrowthSvg(leaking, { verdicts: growthVerdict(leaking, { minSamples: 10 }) });
    assert.match(
      svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="\d+" viewBox="0 0 960 \d+"/,
    );
    const lines = [...svg.matchAll(/<polyline data-series="([^"]+)"[^>]* points="([^"]+)"/g)];
    assert.deepEqual(
      lines.map((m) => m[1]),
      [
        "heapUsed",
        "rss",
        "liveContexts",
        "liveOperations",
        "handles:Timeout",
        "handles:TCPSocketWrap",
      ],
    );
    for (const m of lines) assert.equal(m[2]?.split(" ").length, 30);
    assert.match(svg, /memory \(MB\)/);
    assert.match(svg, /seconds since the first sample/);
    assert.match(svg, /live contexts \(right\) — leak \(p=/);
    assert.match(svg, /handles: TCPSocketWrap \(right\) — no leak/);
    assert.doesNotMatch(svg, /<script|href=|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it("draws at most the top handle types and escapes their names", () => {
    const svg = toGrowthSvg([sample(0, 1, { "<b>&'\"": 9, B: 8, C: 7, D: 6 })], { handleTypes: 2 });
    assert.match(svg, /handles: &lt;b&gt;&amp;&apos;&quot;/);
    assert.doesNotMatch(svg, /handles: C/);
    assert.match(svg, /<circle /, "a single sample shows as points");
  });

  it("says there is nothing to draw without samples", () => {
    const svg = toGrowthSvg([]);
    assert.match(svg, /no growth samples yet/);
    assert.match(svg, /<\/svg>\n$/);
  });

  it("stays small with 100,000 samples, keeping peaks", () => {
    const many = Array.from({ length: 100_000 }, (_, i) =>
      sample(i / 10, 50 + (i % 1000 === 0 ? 30 : 0)),
    );
    const started = performance.now();
    const svg = toGrowthSvg(many);
    const elapsed = performance.now() - started;
    // Generous for 2 shared cores; a quadratic slip would take minutes.
    assert.ok(elapsed < 8_000, `took ${elapsed.toFixed(0)} ms`);
    assert.ok(svg.length < 200_000, `${svg.length} bytes`);
    const heap = /data-series="heapUsed"[^>]* points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    assert.ok(heap.length <= 600);
    const ys = heap.map((p) => Number(p.split(",")[1]));
    assert.ok(
      Math.max(...ys) - Math.min(...ys) > 40,
      "the spikes (30 MB of a 200 MB axis, 300 px) survive decimation",
    );
  });

  it("rejects options out of range, naming them", () => {
    assert.throws(
      () => toGrowthSvg([], { handleTypes: 21 }),
      /toGrowthSvg: options\.handleTypes must be an integer from 0 to 20/,
    );
    assert.throws(() => toGrowthSvg([], { maxPoints: 2 }), /maxPoints must be an integer from 10/);
  });
  // Chromium opening the SVG is tested in flamegraph.test.ts, which launches one browser for both.
});

describe("the event loop and findings on the curves", () => {
  const withLoop = (second: number, delayMs: number, busy: number): GrowthSample => ({
    ...sample(second, 1),
    loopDelayMaxMs: delayMs,
    loopDelayP99Ms: delayMs / 2,
    loopUtilization: busy,
  });

  it("adds delay and utilization columns, empty where a sample has none, and a findings column", () => {
    const csv = toGrowthCsv([sample(0, 1), withLoop(1, 12.5, 0.25), withLoop(2, 480, 0.9)], {
      markers: [
        { at: 5_900, label: "late-deadline" },
        { at: 6_500, label: "timer-loop" },
        { at: 6_600, label: "lost-cancel" },
      ],
    });
    assert.equal(
      csv,
      [
        "seconds,heapUsed_mb,rss_mb,liveContexts,liveOperations,loopDelayMax_ms,loopDelayP99_ms,loopUtilization_pct,findings",
        "0,1,2,0,1,,,,",
        "1,1,2,0,1,12.5,6.25,25,late-deadline",
        "2,1,2,0,1,480,240,90,timer-loop;lost-cancel",
        "",
      ].join("\n"),
    );
  });

  it("draws the event-loop panel and a labelled marker line per finding", () => {
    const svg = toGrowthSvg([sample(0, 1), withLoop(1, 10, 0.1), withLoop(2, 480, 0.9)], {
      markers: [{ at: 6_900, label: "late-deadline" }],
    });
    assert.match(svg, />event loop</);
    assert.match(svg, /delay \(ms\)/);
    assert.match(svg, /loop utilization \(%, right\)/);
    const lines = [...svg.matchAll(/<polyline data-series="(loop[^"]+)"[^>]* points="([^"]+)"/g)];
    assert.deepEqual(
      lines.map((m) => [m[1], m[2]?.split(" ").length]),
      [
        ["loopDelayMax", 2],
        ["loopDelayP99", 2],
        ["loopUtilization", 2],
      ],
      "one line each, from the second sample (the first has no window)",
    );
    const markers = [...svg.matchAll(/<line data-marker="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(markers, ["late-deadline", "late-deadline"], "across both charts");
    assert.match(svg, /rotate\(90\)">late-deadline<\/text>/, "labelled");
  });

  it("leaves the panel out for samples without loop data, and refuses bad markers", () => {
    assert.doesNotMatch(toGrowthSvg([sample(0, 1), sample(1, 1)]), /event loop/);
    assert.throws(
      () => toGrowthSvg([], { markers: [{ at: "soon" }] as unknown as [] }),
      /toGrowthSvg: options\.markers must be an array of \{ at: number, label: string \}/,
    );
  });
});
