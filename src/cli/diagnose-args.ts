import { UsageError } from "./usage-error.js";

/** @internal `timebound diagnose` help text. */
export const DIAGNOSE_USAGE = `Usage: timebound diagnose [--out <dir>] -- <command> [args...]

Runs the command with timebound's tracking on (node --import timebound/register) and, when it
exits (or is stopped with Ctrl-C), prints what was found over the whole run:
  lost-cancel           a context whose holder never called cancel(): it ended by its own
                        deadline or its parent's end, or was live at exit
  ignored-cancellation  work (a fetch until its body arrived, a query) that went on 1 s or more
                        after its context ended, still running or finished
  timer-loop            a setTimeout that re-arms itself from its own callback, still armed
  leaked-timer, late-deadline (says whether the event loop was really blocked), growth
The report folder holds dump.txt, dump-full.txt, report.json, profile.pb.gz, stacks.folded,
flamegraph.html, growth.csv, growth.svg and timeline.json (Chrome trace events: open it in
https://ui.perfetto.dev).

Defaults (TIMEBOUND_* environment variables change them):
  TIMEBOUND_IGNORED_CANCELLATION_MS=1000  overrun that counts as ignoring cancellation; also how
                                          long a late cancel() is waited for
  TIMEBOUND_SAMPLE_INTERVAL_MS=10000      growth samples every 1/20 of the run so far, from 250 ms
                                          up to this, and one at every dump and at exit
  TIMEBOUND_GROWTH_MIN_RUN_MS=30000       no growth verdict on a shorter run (or < 12 samples)
  TIMEBOUND_LATE_DEADLINE_MS=50           a deadline timer this late is reported
  TIMEBOUND_LONG_LIVED=<names>            contexts meant to live (server,worker-*): never lost

Options:
  --out <dir>   report folder (default: timebound-report)
  -h, --help    show this help

Example:
  timebound diagnose --out report -- node server.js
`;

/** @internal `timebound diagnose` arguments, parsed. */
export interface DiagnoseArgs {
  /** `--out`'s folder, if given. */
  readonly out: string | undefined;
  /** What follows `--`: the program and its arguments (empty with `help`). */
  readonly command: readonly string[];
  /** `-h` or `--help` was given: show {@link DIAGNOSE_USAGE} and run nothing. */
  readonly help: boolean;
}

function usageError(message: string): UsageError {
  return new UsageError(message, "diagnose");
}

/**
 * @internal Parses `[--out dir] -- command...`; throws a {@link UsageError} naming the mistake.
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
      if (command.length === 0) throw usageError("nothing to run after --");
      return { out, command, help: false };
    }
    if (arg === "--out" || arg.startsWith("--out=")) {
      const value = arg === "--out" ? args[++i] : arg.slice("--out=".length);
      if (value === undefined || value === "" || value.startsWith("-")) {
        throw usageError("--out needs a folder");
      }
      out = value;
      continue;
    }
    if (arg.startsWith("-")) throw usageError(`unknown option "${arg}"; options: --out, --help`);
    return { out, command: args.slice(i), help: false }; // no "--": the command starts here
  }
  throw usageError('no command to run; e.g. "timebound diagnose -- node app.js"');
}
