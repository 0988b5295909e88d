// The core suite: goals 1-4 of the benchmark issue, plus the costs users ask about next.
// Order matters: the tree runs first (its cold run is the process's first mass cancel), then the
// heap measurements on a still small heap, then the timed comparisons.
import { background, withCancel } from "../../src/index.js";
import { type Row, formatRow, header, machine, verdict, writeJson } from "../harness.js";
import { bytesPerContext } from "./bytes.js";
import { createCancel } from "./create-cancel.js";
import { extras } from "./extras.js";
import { timeoutMemory } from "./timeout-memory.js";
import { tree } from "./tree.js";

export async function run(): Promise<void> {
  const started = performance.now();
  const m = machine();
  console.log(`core benchmarks: node ${m.node}, ${m.cpu} x${m.cores}, ${m.date}\n`);
  // One long-lived parent, as in a server: children link under it and unlink when canceled.
  const parent = withCancel(background(), { name: "bench-parent" });

  const t = await tree();
  console.log(
    `tree of ${t.nodes.toLocaleString("en-US")} (fanout ${t.fanout}), median of ${t.reps} warm runs:\n` +
      `  ours            build ${ms(t.ours.medianBuildMs)}, cancel ${ms(t.ours.medianCancelMs)}` +
      ` (cold: build ${ms(t.ours.coldBuildMs)}, cancel ${ms(t.ours.coldCancelMs)})\n` +
      `  AbortSignal.any build ${ms(t.abortSignalAny.medianBuildMs)}, abort ${ms(t.abortSignalAny.medianCancelMs)}` +
      ` (cold: build ${ms(t.abortSignalAny.coldBuildMs)}, abort ${ms(t.abortSignalAny.coldCancelMs)})\n`,
  );

  const bytes = bytesPerContext(parent);
  console.log("bytes per live context (heapUsed delta after GC / 100,000)");
  for (const b of bytes) console.log(`  ${b.name.padEnd(40)} ${String(b.bytes).padStart(6)} B`);

  const memory = await timeoutMemory(parent);
  console.log("\nheap above baseline after GC, MB (every 5th sample)");
  for (const c of memory.curves) {
    const shown = c.mb.filter((_, i) => i % 5 === 0).join("  ");
    console.log(`  ${c.name.padEnd(34)} ${shown}   (${Math.round(c.ms)} ms)`);
  }
  console.log(`  wrote ${memory.csv}\n  wrote ${memory.svg}`);

  console.log("\nrunning timed comparisons (tinybench, 5 interleaved rounds each)...");
  const goals = await createCancel(parent);
  const more = await extras(parent);
  const rows: Row[] = [...goals, t.row, t.coldRow, ...more];

  console.log(`\n${header()}`);
  for (const r of rows) console.log(formatRow(r));
  const missed = rows.filter((r) => r.pass === false);
  console.log(
    missed.length === 0
      ? "\nall goals met"
      : `\n${missed.length} goal(s) missed:\n${missed.map((r) => `  ${r.name}: ${verdict(r)}`).join("\n")}`,
  );

  const { row: _row, coldRow: _coldRow, ...treeData } = t;
  const file = writeJson("core", {
    suite: "core",
    machine: m,
    durationMs: Math.round(performance.now() - started),
    rows,
    tree: treeData,
    bytesPerContext: bytes,
    timeoutMemory: { iterations: memory.iterations, curves: memory.curves },
  });
  console.log(`wrote ${file} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  parent.cancel();
}

function ms(v: number): string {
  return `${v.toFixed(1)} ms`;
}
