import { join } from "node:path";
import { type DumpResult, writeDump, writeDumpSync } from "./dump.js";
import { plural } from "./format.js";
import type { Snapshot } from "./model.js";
import { toTextReport } from "./report-text.js";
import type { Tracking } from "./track.js";

/** Signals whose default action ends the process; the exit dump is written before it does. */
const FATAL_SIGNALS = ["SIGINT", "SIGTERM"] as const;

function summary(snapshot: Snapshot, result: DumpResult): string {
  const counts = new Map<string, number>();
  for (const f of snapshot.findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  const kinds = [...counts].map(([kind, n]) => `${kind} ×${n}`).join(", ");
  const total = snapshot.findings.length + snapshot.omitted.findings;
  const failed = result.failed.map((f) => `${f.file}: ${f.error}`).join("; ");
  return (
    `${plural(total, "finding")}${kinds === "" ? "" : ` (${kinds})`}` +
    (failed === "" ? "" : `; not written: ${failed}`)
  );
}

/**
 * @internal Installs the ways to get a dump without code: on `options.dumpSignal` (SIGUSR2 by
 * default) a dump goes to `<reportDir>/sigusr2-<n>/`, or as text to stderr without a `reportDir`;
 * with a `reportDir` and `dumpOnExit`, a dump is written into `reportDir` when the process exits,
 * even by an uncaught exception, `process.exit()`, or SIGINT/SIGTERM with no handler of the
 * program's own (the signal is then raised again, so the process still dies of it). Everything is
 * removed when tracking stops.
 */
export function installDumpTriggers(tracking: Tracking): void {
  const { dumpSignal, dumpOnExit } = tracking.options;
  const reportDir = tracking.options.reportDir?.replaceAll("%p", String(process.pid));
  if (dumpSignal !== false) {
    let seq = 0;
    const onSignal = (): void => {
      if (reportDir === undefined) {
        process.stderr.write(toTextReport(tracking.snapshot(), { debug: 1 }));
        return;
      }
      dumpAsync(tracking, join(reportDir, `${dumpSignal.toLowerCase()}-${++seq}`), dumpSignal);
    };
    process.on(dumpSignal, onSignal);
    tracking.onStop(() => process.off(dumpSignal, onSignal));
  }
  if (reportDir === undefined || !dumpOnExit) return;

  let done = false;
  const dumpNow = (why: string): void => {
    if (done) return;
    done = true;
    tracking.markExiting();
    try {
      const snapshot = tracking.snapshot();
      tell(why, reportDir, snapshot, writeDumpSync(reportDir, snapshot));
    } catch (err) {
      tellFailure(why, reportDir, err);
    }
  };
  // A natural exit leaves time for the asynchronous outputs (the gzipped profile): dump then,
  // and the exit event finds it done. process.exit(), a crash or a signal skip this event.
  const onBeforeExit = (): void => {
    if (done) return;
    done = true;
    tracking.markExiting();
    dumpAsync(tracking, reportDir, `exit (code ${process.exitCode ?? 0})`);
  };
  const onExit = (code: number): void => dumpNow(`exit (code ${code})`);
  process.on("beforeExit", onBeforeExit);
  process.on("exit", onExit);
  tracking.onStop(() => {
    process.off("beforeExit", onBeforeExit);
    process.off("exit", onExit);
  });
  for (const signal of FATAL_SIGNALS) {
    const onFatal = (): void => {
      // Someone else handles it: their handler decides whether to exit, and the exit dumps.
      if (process.listenerCount(signal) > 1) return;
      dumpNow(signal);
      process.off(signal, onFatal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onFatal);
    tracking.onStop(() => process.off(signal, onFatal));
  }
}

/** Writes a dump without blocking the program, and says on stderr what it wrote. */
function dumpAsync(tracking: Tracking, dir: string, why: string): void {
  const snapshot = tracking.snapshot();
  writeDump(dir, snapshot).then(
    (result) => tell(why, dir, snapshot, result),
    (err: unknown) => tellFailure(why, dir, err),
  );
}

/** One line on stderr: where the dump went and what it found. */
function tell(why: string, dir: string, snapshot: Snapshot, result: DumpResult): void {
  process.stderr.write(`timebound: ${why}: wrote ${dir}: ${summary(snapshot, result)}\n`);
}

/** One line on stderr: why the dump could not be written. */
function tellFailure(why: string, dir: string, err: unknown): void {
  process.stderr.write(`timebound: ${why}: could not write ${dir}: ${String(err)}\n`);
}
