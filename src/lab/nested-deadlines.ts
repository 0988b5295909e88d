import { startTimer } from "../core/internal.js";
import { background, explain, now, withTimeout } from "../core/index.js";
import { formatMs } from "./format.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";

/** @internal One row of the seed's table, in configured (unscaled) milliseconds. */
export interface NestedCase {
  readonly key: string;
  readonly parentMs: number;
  readonly childMs: number;
  /** When the parent is canceled from outside, if it is. */
  readonly cancelAtMs?: number;
  /** When the child should end, and what should end it. */
  readonly expectMs: number;
  readonly endedBy: string;
}

const CASES: readonly NestedCase[] = [
  { key: "a", parentMs: 3000, childMs: 2000, expectMs: 2000, endedBy: "its own deadline" },
  {
    key: "b",
    parentMs: 1000,
    childMs: 5000,
    expectMs: 1000,
    endedBy: "the parent's deadline, 4 s before its own",
  },
  {
    key: "c",
    parentMs: 3000,
    childMs: 2000,
    cancelAtMs: 1200,
    expectMs: 1200,
    endedBy: "the parent, canceled: client went away",
  },
];

/** How the child ended, as one variant saw it. */
interface Observation {
  /** Observed lifetime in ms; undefined if it was still alive when the watchdog gave up. */
  readonly lifetimeMs: number | undefined;
  readonly errorClass: string;
  readonly errorText: string;
  readonly message: string;
}

const STILL_ALIVE: Observation = {
  lifetimeMs: undefined,
  errorClass: "none",
  errorText: "none: still alive (unexpected!)",
  message: "",
};

/**
 * @internal A configured duration at this scale, in whole ms (`AbortSignal.timeout` takes only
 * those); both variants use the same numbers.
 */
export function scaled(ms: number, scale: number): number {
  return Math.max(1, Math.round(ms * scale));
}

/** Resolves with the time `signal` aborts. */
function abortedAt(signal: AbortSignal): Promise<number> {
  if (signal.aborted) return Promise.resolve(now());
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve(now()), { once: true });
  });
}

function observe(
  start: number,
  end: number | undefined,
  error: unknown,
  message?: string,
): Observation {
  if (end === undefined) return STILL_ALIVE;
  const err = error instanceof Error ? error : new Error(String(error));
  const cls = err.constructor.name;
  return {
    lifetimeMs: end - start,
    errorClass: cls,
    errorText: cls === err.name ? cls : `${cls} (name ${err.name})`,
    message: message ?? err.message,
  };
}

/**
 * Runs one case both ways at the same moment: plain AbortSignals (`AbortSignal.timeout` joined
 * with `AbortSignal.any`, the usual Node idiom) and timebound contexts.
 */
async function runCase(
  c: NestedCase,
  scale: number,
): Promise<{ wrong: Observation; right: Observation }> {
  const parentMs = scaled(c.parentMs, scale);
  const childMs = scaled(c.childMs, scale);
  const cause = new Error("client went away");

  const wrongStart = now();
  const parentAbort = new AbortController();
  const wrongParent = AbortSignal.any([parentAbort.signal, AbortSignal.timeout(parentMs)]);
  const wrongChild = AbortSignal.any([wrongParent, AbortSignal.timeout(childMs)]);
  const wrongEnd = abortedAt(wrongChild);

  const rightStart = now();
  // `using` for both, as taught: each context derived here ends when this function returns.
  using parent = withTimeout(background(), parentMs, { name: "parent" });
  using child = withTimeout(parent, childMs, { name: "child" });
  const rightEnd = child.done.then(() => now());

  const cancel =
    c.cancelAtMs === undefined
      ? undefined
      : startTimer(
          () => {
            parentAbort.abort(cause);
            parent.cancel(cause);
          },
          scaled(c.cancelAtMs, scale),
        );
  // The seed's `case <-time.After(2500 * time.Millisecond)`: give up on a child that never ends.
  // This timer is ref'd, so it also keeps the process up while the (unref'd) deadlines run.
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<undefined>((resolve) => {
    watchdog = startTimer(() => resolve(undefined), Math.max(parentMs, childMs) + 1000);
  });
  try {
    const [wrongAt, rightAt] = await Promise.all([
      Promise.race([wrongEnd, gaveUp]),
      Promise.race([rightEnd, gaveUp]),
    ]);
    return {
      wrong: observe(wrongStart, wrongAt, wrongChild.reason),
      // explain(child).message is the sentence child.err carries; reading it shows the API.
      right: observe(rightStart, rightAt, child.err, explain(child).message),
    };
  } finally {
    clearTimeout(watchdog);
    clearTimeout(cancel);
    parentAbort.abort();
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function describeCase(c: NestedCase, scale: number): string {
  const noCancel = c.cancelAtMs === undefined;
  const setup =
    `(${c.key}) parent ${seconds(c.parentMs)}, child ${seconds(c.childMs)}` +
    (noCancel ? "" : `, parent canceled at ${seconds(c.cancelAtMs)}`);
  const ran =
    `${formatMs(scaled(c.parentMs, scale))} / ${formatMs(scaled(c.childMs, scale))}` +
    (noCancel ? "" : ` / ${formatMs(scaled(c.cancelAtMs, scale))}`);
  return (
    `${setup} (run at x${scale}: ${ran});\n` +
    `    the child should end at ~${formatMs(scaled(c.expectMs, scale))}: ${c.endedBy}`
  );
}

function rowsFor(
  c: NestedCase,
  scale: number,
  wrong: Observation,
  right: Observation,
): ResultRow[] {
  const group = describeCase(c, scale);
  const lifetime = (o: Observation): { value: number | null; text: string } =>
    o.lifetimeMs === undefined
      ? { value: null, text: "still alive" }
      : { value: o.lifetimeMs, text: formatMs(o.lifetimeMs) };
  return [
    {
      key: `${c.key}.lifetime`,
      group,
      measure: "child lived",
      unit: "ms",
      wrong: lifetime(wrong),
      right: lifetime(right),
    },
    {
      key: `${c.key}.error`,
      group,
      measure: "error",
      wrong: { value: wrong.errorClass, text: wrong.errorText },
      right: { value: right.errorClass, text: right.errorText },
    },
    {
      key: `${c.key}.message`,
      group,
      measure: "message",
      wrong: { value: wrong.message, text: quote(wrong.message) },
      right: { value: right.message, text: quote(right.message) },
    },
  ];
}

function quote(message: string): string {
  return message === "" ? "" : `"${message}"`;
}

interface CaseResult {
  readonly c: NestedCase;
  readonly wrong: Observation;
  readonly right: Observation;
}

function findings(results: readonly CaseResult[], scale: number): string[] {
  const out: string[] = [];
  const [a, b, c] = results;
  if (a !== undefined && b !== undefined && a.wrong.message === b.wrong.message) {
    out.push(
      `AbortSignal words (a) and (b) the same ("${a.wrong.message}") though different deadlines ` +
        `ended the child; timebound says which: its own in (a), ancestor "parent" in (b).`,
    );
  }
  if (c !== undefined && c.right.errorClass === "Canceled") {
    out.push(
      `In (c) the child ends as Canceled, not DeadlineExceeded, before its own deadline ` +
        `(the Go article's "context.Canceled, not DeadlineExceeded!"); the message names the ` +
        `ancestor and the cause.`,
    );
  }
  const drift = results.flatMap(({ c: k, wrong, right }) =>
    [wrong.lifetimeMs, right.lifetimeMs].map((l) =>
      l === undefined ? Infinity : Math.abs(l - scaled(k.expectMs, scale)),
    ),
  );
  const worst = Math.max(...drift);
  out.push(
    worst === Infinity
      ? "Unexpected: a child was still alive long after it should have ended."
      : `Every observed lifetime is within ${formatMs(worst)} of the expected one.`,
  );
  return out;
}

/** @internal Seed section 2.5: nested deadlines, where a child ends before its own timeout. */
export const nestedDeadlines: Scenario = {
  id: "nested-deadlines",
  title: "a child ended by its parent: who ended it, and when?",
  goArticle:
    "section 2.5 reports: parent 3 s / child 2 s ends at <= 2 s; " +
    "parent 1 s / child 5 s at <= 1 s; a parent canceled early ends the child at once, " +
    "with context.Canceled and no word of why",
  wrong: "AbortSignal.timeout + AbortSignal.any",
  right: "timebound withTimeout",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const scale = options.scale;
    const results: CaseResult[] = [];
    for (const c of CASES) {
      progress.step(
        `nested-deadlines: case (${c.key}), about ${formatMs(scaled(c.expectMs, scale))} ` +
          `(${results.length + 1} / ${CASES.length})`,
      );
      const { wrong, right } = await runCase(c, scale);
      results.push({ c, wrong, right });
    }
    return {
      setup:
        `each case runs both ways at once; times are scaled by x${scale}; ` +
        `lifetimes are measured from creation to the child's abort`,
      rows: results.flatMap(({ c, wrong, right }) => rowsFor(c, scale, wrong, right)),
      findings: findings(results, scale),
    };
  },
};

/** @internal The seed's cases, exported for tests: expected lifetimes in unscaled ms by case key. */
export const nestedCases: ReadonlyMap<string, NestedCase> = new Map(CASES.map((c) => [c.key, c]));
