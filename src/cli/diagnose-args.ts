import { type OptionSpec, parseCommandArgs } from "./parse-args.js";
import { UsageError } from "./usage-error.js";

/** @internal `timebound diagnose` help text. */
export const DIAGNOSE_USAGE = `Usage: timebound diagnose [--out <dir>] -- <command> [args...]
       timebound diagnose [--out <dir>] [--late-deadline-ms <ms> ...] -- <command> [args...]

Runs the command with timebound's tracking on (node --import timebound/register) and, when it
exits (or is stopped with Ctrl-C), prints what was found over the whole run:
  lost-cancel           a context whose holder never called cancel(): it ended by its own
                        deadline or its parent's end, or was live at exit
  ignored-cancellation  work (a fetch until its body arrived, a query) that went on 1 s or more
                        after its context ended, still running or finished
  timer-loop            a setTimeout that re-arms itself from its own callback (also after
                        an await: an async function passing itself again), still armed
  leaked-timer, late-deadline (says whether the event loop was really blocked), growth
A program made to exit (Ctrl-C, process.exit()) is also told what kept it alive: its servers,
sockets and timers, each timer at its creation site. dump.txt lists every live timer by stack.
The report folder holds dump.txt, dump-full.txt, report.json, profile.pb.gz (live items; go
tool pprof -top shows counts), findings.pb.gz, stacks.folded, flamegraph.html, growth.csv,
growth.svg and timeline.json (Chrome trace events: open it in https://ui.perfetto.dev).

Options (each also has a TIMEBOUND_* environment variable; an option wins over it):
  --out <dir>                    report folder (default: timebound-report)
  --ignored-cancellation-ms <ms> overrun that counts as ignoring cancellation; also how long a
                                 late cancel() is waited for (TIMEBOUND_IGNORED_CANCELLATION_MS,
                                 default 1000)
  --late-deadline-ms <ms>        a deadline timer this late is reported (TIMEBOUND_LATE_DEADLINE_MS,
                                 default 50)
  --sample-interval-ms <ms>      growth samples every 1/20 of the run so far, from 250 ms up to
                                 this, and one at every dump and at exit
                                 (TIMEBOUND_SAMPLE_INTERVAL_MS, default 10000)
  --growth-min-run-ms <ms>       no growth verdict on a shorter run, or on fewer than 12 samples
                                 (TIMEBOUND_GROWTH_MIN_RUN_MS, default 30000)
  --long-lived <names>           contexts meant to live, never lost: server,worker-*
                                 (TIMEBOUND_LONG_LIVED, default none)
  -h, --help                     show this help

The command starts at "--", or at the first argument that is not an option.

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
  /** The TIMEBOUND_* variables the options set, for the program; absent when none was given. */
  readonly env?: Readonly<Record<string, string>>;
}

/** What a value option takes, for "--x needs ..." and "--x must be ..." messages. */
interface ValueOption {
  /** "a folder", "a number of milliseconds", "context names". */
  readonly noun: string;
  /** The environment variable it sets for the program; `--out` sets none. */
  readonly env?: string;
  /** For numbers: the range tracking accepts (options.ts). */
  readonly range?: { readonly min: number; readonly max: number };
}

const MS = "a number of milliseconds";
const MAX_MS = 1e9;

const VALUE_OPTIONS: Readonly<Record<string, ValueOption>> = {
  out: { noun: "a folder" },
  "ignored-cancellation-ms": {
    noun: MS,
    env: "TIMEBOUND_IGNORED_CANCELLATION_MS",
    range: { min: 0, max: MAX_MS },
  },
  "late-deadline-ms": {
    noun: MS,
    env: "TIMEBOUND_LATE_DEADLINE_MS",
    range: { min: 0, max: MAX_MS },
  },
  "sample-interval-ms": {
    noun: MS,
    env: "TIMEBOUND_SAMPLE_INTERVAL_MS",
    range: { min: 10, max: MAX_MS },
  },
  "growth-min-run-ms": {
    noun: MS,
    env: "TIMEBOUND_GROWTH_MIN_RUN_MS",
    range: { min: 0, max: MAX_MS },
  },
  "long-lived": { noun: "context names (server,worker-*)", env: "TIMEBOUND_LONG_LIVED" },
};

/** `timebound diagnose`'s options, for parseArgs. */
const DIAGNOSE_OPTIONS: OptionSpec = {
  ...Object.fromEntries(Object.keys(VALUE_OPTIONS).map((name) => [name, { type: "string" }])),
  help: { type: "boolean", short: "h" },
};

function usageError(message: string): UsageError {
  return new UsageError(message, "diagnose");
}

/**
 * Where the command starts: after `--`, or at the first argument that is neither an option nor
 * a value option's value (`timebound diagnose node --inspect app.js` runs `node --inspect app.js`).
 */
function splitAt(args: readonly string[]): { own: string[]; command: string[] | undefined } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return { own: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith("-") || arg === "-")
      return { own: args.slice(0, i), command: args.slice(i) };
    // "--out dir": the next argument is the value, whatever it looks like (parseArgs judges it).
    if (arg.startsWith("--") && !arg.includes("=") && arg.slice(2) in VALUE_OPTIONS) i++;
  }
  return { own: [...args], command: undefined };
}

/** A plain decimal within `range`; anything else is a usage error that shows what was given. */
function parseMs(name: string, text: string, range: { min: number; max: number }): number {
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(n >= range.min && n <= range.max)) {
    throw usageError(
      `--${name} must be ${MS} from ${range.min.toLocaleString("en-US")} to ` +
        `${range.max.toLocaleString("en-US")}, got "${text}"`,
    );
  }
  return n;
}

/**
 * @internal Parses `[options] -- command...` through node:util's parseArgs; throws a
 * {@link UsageError} naming the mistake.
 *
 * @example
 * ```ts
 * parseDiagnoseArgs(["--out", "r", "--", "node", "app.js"]); // { out: "r", command: ["node", "app.js"], help: false }
 * ```
 */
export function parseDiagnoseArgs(args: readonly string[]): DiagnoseArgs {
  const { own, command } = splitAt(args);
  let values;
  try {
    ({ values } = parseCommandArgs("diagnose", own, DIAGNOSE_OPTIONS));
  } catch (err) {
    // parseArgs says "--x needs a value"; say what kind of value.
    const missing =
      err instanceof UsageError ? /^--([\w-]+) needs a value/.exec(err.message) : null;
    const option = missing === null ? undefined : VALUE_OPTIONS[missing[1]!];
    if (option === undefined) throw err;
    throw usageError(`--${missing![1]} needs ${option.noun}`);
  }
  if (values.help === true) return { out: undefined, command: [], help: true };
  const env: Record<string, string> = {};
  let out: string | undefined;
  for (const [name, option] of Object.entries(VALUE_OPTIONS)) {
    const value = values[name];
    if (typeof value !== "string") continue;
    if (value === "") throw usageError(`--${name} needs ${option.noun}`);
    if (option.range !== undefined) parseMs(name, value, option.range);
    if (option.env === undefined) out = value;
    else env[option.env] = value;
  }
  if (command === undefined) {
    throw usageError('no command to run; e.g. "timebound diagnose -- node app.js"');
  }
  if (command.length === 0) throw usageError("nothing to run after --");
  return Object.keys(env).length === 0
    ? { out, command, help: false }
    : { out, command, help: false, env };
}
