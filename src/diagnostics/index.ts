/**
 * `timebound/diagnostics`: what Go has in /debug/pprof/goroutine and goleak, for timebound's
 * contexts. Tracking (off until asked for) keeps a registry of live contexts and operations from
 * the core's diagnostics_channel events, watches timers and late deadlines, samples growth, and
 * turns that into findings with creation stacks and into text, JSON, pprof, folded stacks, a
 * flame graph and growth curves.
 *
 * Importing this module with `TIMEBOUND_TRACK=1` in the environment turns tracking on with the
 * options from the environment (see `timebound/register` for the variables).
 *
 * @example
 * ```ts
 * import { track, debugHandler, toTextReport } from "timebound/diagnostics";
 * const tracking = track();
 * http.createServer(debugHandler()).listen(6060, "127.0.0.1");
 * process.on("SIGUSR1", () => console.error(toTextReport(tracking.snapshot())));
 * ```
 * @module timebound/diagnostics
 */
import { diagnoseSummary as summaryOfDiagnose } from "./diagnose-summary.js";
import { optionsFromEnv, trackingFromEnv } from "./env.js";
import { track } from "./track.js";

export type {
  Finding,
  FindingKind,
  Frame,
  GrowthSample,
  KeptAlive,
  LiveTimerGroup,
  LiveTimers,
  Snapshot,
  TrackedContext,
  TrackedOperation,
  TimelineEntry,
} from "./model.js";
export type {
  ResolvedBounds,
  ResolvedTrackOptions,
  SnapshotBounds,
  TrackOptions,
} from "./options.js";
export { ENV_VARS, optionsFromEnv } from "./env.js";
export { type Tracking, activeTracking, isTracking, longLived, snapshot, track } from "./track.js";
export { DUMP_SIGNALS } from "./options.js";
export { type TextReportOptions, NOT_TRACKING, toTextReport } from "./report-text.js";
export {
  type JsonReport,
  REPORT_FORMAT,
  REPORT_VERSION,
  parseJsonReport,
  toJson,
  toJsonReport,
} from "./report-json.js";
export { type DebugHandlerOptions, debugHandler } from "./http-handler.js";
export { DUMP_FILES, type DumpFile, type DumpResult, writeDump, writeDumpSync } from "./dump.js";
export {
  type Leak,
  type LeakCheck,
  type LeakCheckOptions,
  expectNoLeaks,
  leakCheck,
} from "./expect-no-leaks.js";
export { type DiagnoseOptions, type DiagnoseResult, runDiagnose } from "./diagnose.js";
export { ProgramStartError } from "./program-start-error.js";
export { type ParsedStack, formatFrame, parseStack } from "./stacks.js";
export { toPprof, toPprofSync } from "./pprof.js";
export { cpuProfile, heapProfile } from "./runtime-profiles.js";
export { type TraceEvent, toTraceEvents } from "./trace.js";
export { type FoldItems, type FoldOptions, toFolded } from "./folded.js";
export { type FlameGraphOptions, toFlameGraphHtml } from "./flamegraph.js";
export {
  type GrowthCsvOptions,
  type GrowthMarker,
  type GrowthSvgOptions,
  findingMarkers,
  toGrowthCsv,
  toGrowthSvg,
} from "./curves.js";
export { type GrowthVerdictOptions, type SeriesVerdict, growthVerdict } from "./verdict.js";

/**
 * @deprecated What `runDiagnose` prints when the program has ended; it writes it itself. The
 * command-line parsing that was exported beside it (`DIAGNOSE_USAGE`, `parseDiagnoseArgs`,
 * `DiagnoseArgs`) belongs to the `timebound` command and is no longer exported.
 *
 * @example
 * ```ts
 * const { findings } = parseJsonReport(await readFile("timebound-report/report.json", "utf8"));
 * process.stdout.write(diagnoseSummary(["timebound-report"], findings));
 * ```
 */
export const diagnoseSummary = summaryOfDiagnose;

if (trackingFromEnv(process.env, "timebound/diagnostics") === true) {
  track(optionsFromEnv(process.env, "timebound/diagnostics"));
}
