import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DUMP_FILES } from "./dump.js";
import { plural } from "./format.js";
import type { Finding } from "./model.js";
import { parseJsonReport } from "./report-json.js";
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

/** `timebound diagnose` help text. */
export const DIAGNOSE_USAGE = `Usage: timebound diagnose [--out <dir>] -- <command> [args...]

Runs the command with timebound's tracking on (node --import timebound/register) and, when it
exits (or is stopped with Ctrl-C), prints what was found: contexts never canceled or lost,
work that ignored cancellation, leaked timers, late deadlines, growth. The report folder holds
dump.txt, dump-full.txt, report.json, profile.pb.gz, stacks.folded, flamegraph.html, growth.csv
and growth.svg. TIMEBOUND_* environment variables tune the thresholds.

Options:
  --out <dir>   report folder (default: timebound-report)
  -h, --help    show this help

Example:
  timebound diagnose --out report -- node server.js
`;

/** `timebound diagnose` arguments, parsed. */
export interface DiagnoseArgs {
  /** `--out`'s folder, if given. */
  readonly out: string | undefined;
  /** What follows `--`: the program and its arguments (empty with `help`). */
  readonly command: readonly string[];
  /** `-h` or `--help` was given: show {@link DIAGNOSE_USAGE} and run nothing. */
  readonly help: boolean;
}

/**
 * Parses `[--out dir] -- command...`; throws a RangeError naming the mistake.
 *
 * @example
 * ```ts
 * parseDiagnoseArgs(["--out", "r", "--", "node", "app.js"]); // { out: "r", command: ["node", "app.js"] }
 * ```
 */
export function parseDiagnoseArgs(args: readonly string[]): DiagnoseArgs {
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") return { out, command: [], help: true };
    if (arg === "--") {
      const command = args.slice(i + 1);
      if (command.length === 0) throw new RangeError("nothing to run after --");
      return { out, command, help: false };
    }
    if (arg === "--out" || arg.startsWith("--out=")) {
      const value = arg === "--out" ? args[++i] : arg.slice("--out=".length);
      if (value === undefined || value === "" || value.startsWith("-")) {
        throw new RangeError("--out needs a folder");
      }
      out = value;
      continue;
    }
    if (arg.startsWith("-"))
      throw new RangeError(`unknown option "${arg}"; options: --out, --help`);
    return { out, command: args.slice(i), help: false }; // no "--": the command starts here
  }
  throw new RangeError('no command to run; e.g. "timebound diagnose -- node app.js"');
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

/**
 * A few lines for people: the first twenty findings, then the files of each report folder.
 *
 * @example
 * ```ts
 * const { findings } = parseJsonReport(await readFile("timebound-report/report.json", "utf8"));
 * process.stdout.write(diagnoseSummary(["timebound-report"], findings));
 * ```
 */
export function diagnoseSummary(dirs: readonly string[], findings: readonly Finding[]): string {
  if (dirs.length === 0) {
    return "timebound diagnose: no report was written (did the program start node, and exit?)\n";
  }
  let out = `timebound diagnose: ${plural(findings.length, "finding")}\n`;
  for (const f of findings.slice(0, 20)) out += `  [${f.kind}] ${f.message}\n`;
  if (findings.length > 20) out += `  … and ${plural(findings.length - 20, "more finding")}\n`;
  for (const dir of dirs) {
    out += `\nin ${dir}:\n`;
    for (const [file, what] of Object.entries(DUMP_FILES)) {
      if (existsSync(join(dir, file))) out += `  ${file.padEnd(16)} ${what}\n`;
    }
  }
  return out;
}

/**
 * The program given to {@link runDiagnose} could not be started (not found, not executable).
 * `code` is `"TIMEBOUND_ERR_PROGRAM_NOT_STARTED"`; `cause` is the spawn error.
 *
 * @example
 * ```ts
 * await runDiagnose({ command: ["nosuchcmd"], out: "r" }).catch((e) => console.error(e.message));
 * // could not start "nosuchcmd": no such file or directory (ENOENT)
 * ```
 */
export class ProgramStartError extends Error {
  /** `"TIMEBOUND_ERR_PROGRAM_NOT_STARTED"`. */
  readonly code = "TIMEBOUND_ERR_PROGRAM_NOT_STARTED";
  /** The error for `program`, whose spawn failed with `cause`. */
  constructor(
    /** The program that could not be started, as given. */
    readonly program: string,
    cause: NodeJS.ErrnoException,
  ) {
    const why =
      cause.code === "ENOENT"
        ? "no such file or directory (ENOENT): is it installed and on PATH?"
        : cause.code === "EACCES"
          ? "permission denied (EACCES): is it executable?"
          : cause.message;
    super(`could not start ${JSON.stringify(basename(program))}: ${why}`, { cause });
    this.name = "ProgramStartError";
  }
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
  const [command, ...args] = options.command;
  if (command === undefined || command === "") {
    throw new TypeError(
      'runDiagnose: options.command must name a program to run, e.g. ["node", "app.js"]',
    );
  }
  const out = resolve(options.out ?? "timebound-report");
  const preload = preloadArgs();
  const direct = isNode(command);
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  env.TIMEBOUND_TRACK = "1";
  env.TIMEBOUND_REPORT_DIR = direct ? out : join(out, "%p");
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
  const findings = reportDirs.flatMap(
    (dir) => parseJsonReport(readFileSync(join(dir, "report.json"), "utf8")).findings,
  );
  (options.stdout ?? process.stdout).write(diagnoseSummary(reportDirs, findings));
  const exitCode = code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0));
  return { exitCode, signal, reportDirs, findings };
}
