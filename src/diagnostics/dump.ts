import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findingMarkers, toGrowthCsv, toGrowthSvg } from "./curves.js";
import { toFlameGraphHtml } from "./flamegraph.js";
import { toFolded } from "./folded.js";
import type { Snapshot } from "./model.js";
import { toPprof, toPprofSync } from "./pprof.js";
import { toJson } from "./report-json.js";
import { toTextReport } from "./report-text.js";
import { toTraceEvents } from "./trace.js";

/** The files of a dump folder, each with a description of what it holds. */
export const DUMP_FILES = {
  "dump.txt": "live contexts, operations and findings grouped by stack (debug=1)",
  "dump-full.txt": "every item with its state, age and creation stack (debug=2)",
  "report.json": "the snapshot as JSON (parseJsonReport reads it back)",
  "profile.pb.gz":
    "pprof profile of the live items: go tool pprof -top profile.pb.gz, or speedscope",
  /** The findings' own profile (`toPprof(snapshot, { items: "findings" })`), so counts never double. */
  "findings.pb.gz": "pprof profile of the findings, each weighing what it found",
  "stacks.folded": "folded stacks for flamegraph.pl, speedscope, inferno",
  "flamegraph.html": "self-contained flame graph (opens offline)",
  "growth.csv":
    "growth samples: heap, RSS, handles by type, live contexts and operations, event-loop delay and utilization, findings",
  "growth.svg": "the growth curves and the event loop as charts, findings marked",
  "timeline.json": "the run on a time axis (contexts, operations, deadlines, findings): Perfetto",
} as const;

/** The name of a file of a dump folder: a key of {@link DUMP_FILES}. */
export type DumpFile = keyof typeof DUMP_FILES;

/** What a dump wrote, and what it could not. */
export interface DumpResult {
  /** The folder written to. */
  readonly dir: string;
  /** The files written, in the order they were. */
  readonly written: readonly DumpFile[];
  /** Outputs that failed, with why; the others were still written. */
  readonly failed: readonly {
    /** The file that could not be rendered or written. */
    readonly file: DumpFile;
    /** The error's message. */
    readonly error: string;
  }[];
}

type Render = (snapshot: Snapshot) => string | Buffer;

function title(snapshot: Snapshot): string {
  return `timebound: pid ${snapshot.pid} at ${snapshot.takenAtWall}`;
}

/** Every output but the pprof profile, which is gzipped asynchronously (or, at exit, not). */
const RENDERERS: readonly [DumpFile, Render][] = [
  ["dump.txt", (s) => toTextReport(s, { debug: 1 })],
  ["dump-full.txt", (s) => toTextReport(s, { debug: 2 })],
  ["report.json", (s) => toJson(s)],
  ["stacks.folded", (s) => toFolded(s)],
  ["flamegraph.html", (s) => toFlameGraphHtml(s, { title: title(s) })],
  ["growth.csv", (s) => toGrowthCsv(s.samples, { markers: findingMarkers(s) })],
  ["growth.svg", (s) => toGrowthSvg(s.samples, { markers: findingMarkers(s) })],
  ["timeline.json", (s) => toTraceEvents(s)],
];

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Writes every output of `snapshot` into `dir` (created if missing): {@link DUMP_FILES}. One
 * output that fails does not stop the others; the result says which failed and why.
 *
 * @example
 * ```ts
 * const { written } = await writeDump("./leaks", tracking.snapshot());
 * ```
 */
export async function writeDump(dir: string, snapshot: Snapshot): Promise<DumpResult> {
  await mkdir(dir, { recursive: true });
  const written: DumpFile[] = [];
  const failed: { file: DumpFile; error: string }[] = [];
  const jobs: [DumpFile, () => Promise<string | Buffer>][] = [
    ...RENDERERS.map(([file, render]): [DumpFile, () => Promise<string | Buffer>] => [
      file,
      () => Promise.resolve(render(snapshot)),
    ]),
    ["profile.pb.gz", () => toPprof(snapshot)],
    ["findings.pb.gz", () => toPprof(snapshot, { items: "findings" })],
  ];
  for (const [file, render] of jobs) {
    try {
      await writeFile(join(dir, file), await render());
      written.push(file);
    } catch (err) {
      failed.push({ file, error: message(err) });
    }
  }
  return { dir, written, failed };
}

/**
 * {@link writeDump} without waiting, for the last moments of a process (`exit`, an uncaught
 * exception) when no callback will ever run; every file is rendered synchronously.
 *
 * @example
 * ```ts
 * process.on("exit", () => writeDumpSync("./leaks", tracking.snapshot()));
 * ```
 */
export function writeDumpSync(dir: string, snapshot: Snapshot): DumpResult {
  mkdirSync(dir, { recursive: true });
  const written: DumpFile[] = [];
  const failed: { file: DumpFile; error: string }[] = [];
  const renderers: [DumpFile, Render][] = [
    ...RENDERERS,
    ["profile.pb.gz", (s: Snapshot) => toPprofSync(s)],
    ["findings.pb.gz", (s: Snapshot) => toPprofSync(s, { items: "findings" })],
  ];
  for (const [file, render] of renderers) {
    try {
      writeFileSync(join(dir, file), render(snapshot));
      written.push(file);
    } catch (err) {
      failed.push({ file, error: message(err) });
    }
  }
  return { dir, written, failed };
}
