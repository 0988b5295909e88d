import { describeValue } from "../core/internal.js";
import { exec as nodeExec } from "node:child_process";
import { existsSync } from "node:fs";
import { background, now, withTimeout } from "../core/index.js";
import { exec } from "../io/process/index.js";
import { hasProcessTable, processesWithEnv } from "../testing/processes.js";
import { sleep } from "../sync/sleep.js";
import { formatCount, formatMs } from "./format.js";
import type { LabOptions } from "./options.js";
import { scaled } from "./nested-deadlines.js";
import type { Measurement, Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { skippedResult } from "./skipped.js";

/** @internal The shell command of nodejs/node#46865: the shell starts two commands and waits. */
export const COMMAND = "sleep 30 & sleep 30";
/** The deadline, unscaled (250 ms at the default x0.25). */
const DEADLINE_MS = 1000;
/** How long after the deadline the lab watches for survivors, unscaled. */
const WATCH_MS = 2000;
/** Between two looks at the process table. */
const POLL_MS = 5;

/** @internal Every process a variant starts inherits this variable, which is how the lab finds them. */
export const MARKER_VARIABLE = "TIMEBOUND_LAB_PROCESS_TREE";

/** @internal The environment entry that marks the processes of one variant in this lab process. */
export function labMarker(variant: "wrong" | "right"): string {
  return `${MARKER_VARIABLE}=${process.pid}-${variant}`;
}

/** What one variant did, measured from the deadline. */
interface Outcome {
  /** Start → the caller's callback or rejection. */
  readonly callerMs: number;
  readonly errorName: string;
  /** Deadline → no process of the command running; null if some still ran when the watch ended. */
  readonly goneAfterMs: number | null;
  /** Processes of the command running when the watch ended. */
  readonly survivors: number;
  /** How many of them the lab had to kill itself. */
  readonly killedByLab: number;
}

type Variant = (
  env: NodeJS.ProcessEnv,
  deadlineMs: number,
) => Promise<{ deadline: number; error: unknown }>;

/** ❌ Node's exec with an AbortSignal: the abort kills /bin/sh; the sleeps it started live on. */
const nodeWay: Variant = (env, deadlineMs) =>
  new Promise((resolve) => {
    const deadline = now() + deadlineMs;
    nodeExec(COMMAND, { env, signal: AbortSignal.timeout(deadlineMs) }, (error) =>
      resolve({ deadline, error }),
    );
  });

/** ✅ timebound's exec: the shell leads its own process group, and the group is stopped. */
const timeboundWay: Variant = async (env, deadlineMs) => {
  // `using`: a command that ends before the deadline must not leave the deadline's timer armed.
  using ctx = withTimeout(background(), deadlineMs, { name: "lab" });
  const deadline = ctx.deadline!;
  try {
    await exec(ctx, COMMAND, { env });
    return { deadline, error: null };
  } catch (error) {
    return { deadline, error };
  }
};

async function runVariant(
  variant: Variant,
  marker: string,
  deadlineMs: number,
  watchMs: number,
): Promise<Outcome> {
  const [name, value] = marker.split("=") as [string, string];
  const start = now();
  const { deadline, error } = await variant({ ...process.env, [name]: value }, deadlineMs);
  const callerMs = now() - start;
  try {
    // Watch until nothing of the command runs, or the watch is over. It starts when the caller
    // is released: a deadline timer that fires late on a busy machine must not shorten it.
    const watchEnd = Math.max(now(), deadline) + watchMs;
    let goneAfterMs: number | null = null;
    while (now() < watchEnd) {
      if (processesWithEnv(marker).length === 0) {
        goneAfterMs = Math.max(0, now() - deadline);
        break;
      }
      await sleep(background(), POLL_MS);
    }
    if (now() < watchEnd) await sleep(background(), watchEnd - now()); // and check again at its end
    const survivors = processesWithEnv(marker).length;
    return {
      callerMs,
      errorName: nameOf(error),
      goneAfterMs,
      survivors,
      killedByLab: killAll(marker),
    };
  } finally {
    killAll(marker); // whatever happens above, the lab leaves no process behind
  }
}

/** SIGKILLs every running process that carries `marker`; returns how many there were. */
function killAll(marker: string): number {
  const left = processesWithEnv(marker);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // it exited meanwhile
    }
  }
  return left.length;
}

function nameOf(error: unknown): string {
  if (error === null || error === undefined) return "none";
  if (!(error instanceof Error)) return describeValue(error);
  const cls = error.constructor.name;
  return cls === error.name ? cls : `${cls} (name ${error.name})`;
}

/** Why the scenario cannot run here, or undefined if it can. */
function cannotRun(): string | undefined {
  if (process.platform === "win32") return "process groups are POSIX-only";
  if (!hasProcessTable()) return "needs a Linux /proc to count the survivors";
  if (!existsSync("/bin/sh")) return "needs /bin/sh";
  return undefined;
}

function measured(value: number | null, text: string): Measurement {
  return { value, text };
}

function rows(deadlineMs: number, watchMs: number, wrong: Outcome, right: Outcome): ResultRow[] {
  const caller = (o: Outcome): Measurement => measured(o.callerMs, formatMs(o.callerMs));
  const lived = (o: Outcome): Measurement =>
    o.goneAfterMs === null
      ? measured(null, `all ${formatMs(watchMs)} watched, and on (sleep 30 runs 30 s)`)
      : measured(o.goneAfterMs, formatMs(o.goneAfterMs));
  const count = (n: number): Measurement => measured(n, formatCount(n));
  return [
    {
      key: "caller",
      measure: `caller waited (deadline ${formatMs(deadlineMs)})`,
      unit: "ms",
      wrong: caller(wrong),
      right: caller(right),
    },
    {
      key: "error",
      measure: "the caller got",
      wrong: { value: wrong.errorName, text: wrong.errorName },
      right: { value: right.errorName, text: right.errorName },
    },
    {
      key: "survivors",
      measure: `processes still running ${formatMs(watchMs)} after the caller was released`,
      unit: "count",
      wrong: count(wrong.survivors),
      right: count(right.survivors),
    },
    {
      key: "lived",
      measure: "the command's processes ran on past the deadline for",
      unit: "ms",
      wrong: lived(wrong),
      right: lived(right),
    },
    {
      key: "cleanup",
      measure: "processes the lab had to kill by hand",
      unit: "count",
      wrong: count(wrong.killedByLab),
      right: count(right.killedByLab),
    },
  ];
}

function findings(deadlineMs: number, watchMs: number, wrong: Outcome, right: Outcome): string[] {
  const out: string[] = [];
  out.push(
    `Node's exec with signal: AbortSignal.timeout(${deadlineMs}) released the caller after ` +
      `${formatMs(wrong.callerMs)} but killed only /bin/sh: ${formatCount(wrong.survivors)} ` +
      `processes (the sleeps, now children of PID 1) still ran ${formatMs(watchMs)} after that ` +
      `and would have run their full 30 s (nodejs/node#46865).`,
  );
  if (right.survivors === 0 && right.goneAfterMs !== null) {
    out.push(
      `timebound's exec signalled the shell's whole process group: nothing of the command ran ` +
        `${formatMs(right.goneAfterMs)} after the deadline, and the caller waited ` +
        `${formatMs(right.callerMs)}.`,
    );
  } else {
    out.push(`Unexpected: ${right.survivors} processes outlived timebound's exec.`);
  }
  return out;
}

/** @internal nodejs/node#46865: a deadline on a shell command stops the shell, not the commands. */
export const processTree: Scenario = {
  id: "process-tree",
  title: "a deadline on a shell command stops the shell, not the commands it started",
  goArticle:
    "section 2.3 compares an HTTP client, a database driver and a channel: whether the timeout " +
    "interrupts the work underneath; for a shell command, the work is every process it started",
  wrong: "child_process.exec + AbortSignal.timeout",
  right: "timebound/process exec(ctx, ...)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const why = cannotRun();
    if (why !== undefined) return skippedResult("scenario", why);
    const deadlineMs = scaled(DEADLINE_MS, options.scale);
    const watchMs = scaled(WATCH_MS, options.scale);
    progress.step(`process-tree: wrong variant, deadline ${formatMs(deadlineMs)}`);
    const wrong = await runVariant(nodeWay, labMarker("wrong"), deadlineMs, watchMs);
    progress.step(`process-tree: right variant, deadline ${formatMs(deadlineMs)}`);
    const right = await runVariant(timeboundWay, labMarker("right"), deadlineMs, watchMs);
    return {
      setup:
        `"${COMMAND}" run through /bin/sh with a ${formatMs(deadlineMs)} deadline; the process ` +
        `table is then watched for ${formatMs(watchMs)} (times scaled by x${options.scale})`,
      rows: rows(deadlineMs, watchMs, wrong, right),
      findings: findings(deadlineMs, watchMs, wrong, right),
    };
  },
};
