import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  checkFunction,
  describeValue,
  invalidType,
  optionsObject,
  readOptions,
} from "../core/internal.js";
import { diagnoseSummary } from "./diagnose-summary.js";
import type { Finding } from "./model.js";
import { ProgramStartError } from "./program-start-error.js";
import { parseJsonReport } from "./report-json.js";
import { keptAliveLine } from "./report-timers.js";
import { diagnosticsDir } from "./stacks.js";

/** Options of {@link runDiagnose}. */
export interface DiagnoseOptions {
  /** The program to run: `["node", "app.js"]`, or any command that starts node (`["npm", "start"]`). */
  readonly command: readonly string[];
  /** Folder for the reports. Default "timebound-report". */
  readonly out?: string;
  /** Extra environment for the program (TIMEBOUND_* options, say). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the summary goes. Default process.stdout. */
  readonly stdout?: {
    /** Writes one piece of the summary. */
    write(text: string): unknown;
  };
}

/** What {@link runDiagnose} found. */
export interface DiagnoseResult {
  /** The program's exit code, or 128 + signal number if a signal ended it. */
  readonly exitCode: number;
  /** The signal that ended the program; null when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  /** Folders that hold a report (one per node process the command started). */
  readonly reportDirs: readonly string[];
  /** The findings of every report, folder by folder. */
  readonly findings: readonly Finding[];
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

function isNode(command: string): boolean {
  return command === "node" || command === process.execPath || /[\\/]node(\.exe)?$/.test(command);
}

/** `--import` arguments that load this build's preload (and tsx when running from sources). */
function preloadArgs(): string[] {
  const dir = diagnosticsDir();
  const js = join(dir, "register.js");
  const file = existsSync(js) ? js : join(dir, "register.ts");
  const args = ["--import", pathToFileURL(file).href];
  return file.endsWith(".ts") ? ["--import", "tsx", ...args] : args;
}

function findReports(out: string): string[] {
  if (!existsSync(out)) return [];
  const dirs = existsSync(join(out, "report.json")) ? [out] : [];
  for (const entry of readdirSync(out, { withFileTypes: true })) {
    if (
      entry.isDirectory() &&
      /^\d+$/.test(entry.name) &&
      existsSync(join(out, entry.name, "report.json"))
    ) {
      dirs.push(join(out, entry.name));
    }
  }
  return dirs;
}

/** {@link DiagnoseOptions}, checked, with the defaults filled in. */
interface DiagnoseRun {
  readonly command: string;
  readonly args: readonly string[];
  readonly out: string;
  readonly extraEnv: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
}

function readDiagnoseOptions(options: DiagnoseOptions): DiagnoseRun {
  const fn = "runDiagnose";
  const o = readOptions(options, fn, ["command", "out", "env", "stdout"]);
  const commandLine: unknown = o.raw("command");
  const [command, ...args] = Array.isArray(commandLine) ? (commandLine as unknown[]) : [];
  if (typeof command !== "string" || command === "" || args.some((a) => typeof a !== "string")) {
    throw invalidType(
      `${fn}: options.command must name a program to run, e.g. ["node", "app.js"], got ${describeValue(commandLine)}`,
    );
  }
  const extraEnv = optionsObject(o.raw("env"), fn, undefined, "options.env");
  const stdout = o.raw("stdout") ?? process.stdout;
  // Read as a value, not called: checked only to be a function.
  const write: unknown = (stdout as { write?: unknown }).write;
  checkFunction(write, fn, "options.stdout.write");
  return {
    command,
    args: args as string[],
    out: resolve(o.string("out", "timebound-report")),
    extraEnv,
    stdout,
  };
}

/**
 * Runs a program with tracking on (`--import timebound/register`) and its exit report going to
 * `out`, waits for it to end, and prints what was found. A `node …` command gets the preload as
 * an argument and reports into `out`; any other command gets it through NODE_OPTIONS, so every
 * node process it starts reports into `out/<pid>/`. SIGINT reaches the program from the
 * terminal; SIGTERM sent to this process is passed on. The program still writes its report
 * when stopped by either.
 *
 * @example
 * ```ts
 * const { exitCode, findings } = await runDiagnose({ command: ["node", "app.js"], out: "report" });
 * ```
 */
export async function runDiagnose(options: DiagnoseOptions): Promise<DiagnoseResult> {
  const { command, args, out, extraEnv, stdout } = readDiagnoseOptions(options);
  const preload = preloadArgs();
  const direct = isNode(command);
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  env.TIMEBOUND_TRACK = "1";
  env.TIMEBOUND_REPORT_DIR = direct ? out : join(out, "%p");
  // A first run is for finding the bug: follow every timer callback's async continuation (a
  // loop re-armed after an await by `() => { void poll(); }`), whatever it costs the promises.
  env.TIMEBOUND_FOLLOW_ASYNC_TIMERS ??= "1";
  if (!direct) {
    const quoted = preload.map((a) => (a.startsWith("--") ? a : JSON.stringify(a)));
    env.NODE_OPTIONS = [env.NODE_OPTIONS ?? "", ...quoted].join(" ").trim();
  }
  const child = spawn(command, direct ? [...preload, ...args] : args, { stdio: "inherit", env });
  const onInterrupt = (): void => {}; // the terminal sent it to the program too: wait for it
  const onTerminate = (): void => void child.kill("SIGTERM");
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onTerminate);
  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolvePromise, reject) => {
        child.once("error", (err) => reject(new ProgramStartError(command, err)));
        child.once("close", (c, s) => resolvePromise([c, s]));
      },
    );
  } finally {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onTerminate);
  }
  const reportDirs = findReports(out);
  const reports = reportDirs.map((dir) =>
    parseJsonReport(readFileSync(join(dir, "report.json"), "utf8")),
  );
  const findings = reports.flatMap((r) => r.findings);
  stdout.write(diagnoseSummary(reportDirs, findings));
  // Stopped by a signal or process.exit(): say what it was still doing (a server, a timer loop).
  for (const report of reports) {
    const line = keptAliveLine(report);
    if (line !== undefined) stdout.write(`\nkept alive at exit (pid ${report.pid}): ${line}\n`);
  }
  const exitCode = code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0));
  return { exitCode, signal, reportDirs, findings };
}
