/**
 * The preload: `node --import timebound/register app.js` turns tracking on before the program
 * starts, with options from the environment. Set `TIMEBOUND_TRACK=0` to keep it off without
 * removing the flag. A bad value stops the program before it starts, with a one-line error
 * naming the variable and what it accepts (exit code 1), as Node does for a bad flag.
 *
 * | variable                            | option (see TrackOptions)  | default            |
 * | ----------------------------------- | -------------------------- | ------------------ |
 * | `TIMEBOUND_TRACK`                   | on (1) / off (0)           | 1 with the preload |
 * | `TIMEBOUND_REPORT_DIR`              | `reportDir` (`%p` = pid)   | none               |
 * | `TIMEBOUND_NEVER_CANCELED_MS`       | `neverCanceledMs`          | 60000              |
 * | `TIMEBOUND_IGNORED_CANCELLATION_MS` | `ignoredCancellationMs`    | 1000               |
 * | `TIMEBOUND_LATE_DEADLINE_MS`        | `lateDeadlineMs`           | 50                 |
 * | `TIMEBOUND_TIMERS`                  | `timers` (1/0)             | 1                  |
 * | `TIMEBOUND_TIMER_SAMPLE_EVERY`      | `timerSampleEvery`         | 8                  |
 * | `TIMEBOUND_FOLLOW_ASYNC_TIMERS`     | `followAsyncTimers` (1/0)  | 1 on Node 24+      |
 * | `TIMEBOUND_WAIT_SAMPLE_EVERY`       | `waitSampleEvery`          | 8                  |
 * | `TIMEBOUND_FETCH`                   | `fetch` (1/0)              | 1                  |
 * | `TIMEBOUND_SAMPLE_INTERVAL_MS`      | `sampleIntervalMs`         | 10000              |
 * | `TIMEBOUND_GROWTH_MIN_RUN_MS`       | `growthMinRunMs`           | 30000              |
 * | `TIMEBOUND_MAX_SAMPLES`             | `maxSamples`               | 360                |
 * | `TIMEBOUND_BLOCKING_STACKS`         | `blockingStacks` (1/0)     | 0                  |
 * | `TIMEBOUND_MAX_EVENTS`              | `maxEvents`                | 1000               |
 * | `TIMEBOUND_MAX_TIMERS`              | `maxTimers`                | 10000              |
 * | `TIMEBOUND_DUMP_ON_EXIT`            | `dumpOnExit` (1/0)         | 1                  |
 * | `TIMEBOUND_DUMP_SIGNAL`             | `dumpSignal` (`off`: none) | SIGUSR2            |
 * | `TIMEBOUND_LONG_LIVED`              | `longLived` (a,b*)         | none               |
 * | `TIMEBOUND_MAX_CONTEXTS`            | `bounds.maxContexts`       | 10000              |
 * | `TIMEBOUND_MAX_OPERATIONS`          | `bounds.maxOperations`     | 10000              |
 * | `TIMEBOUND_MAX_FINDINGS`            | `bounds.maxFindings`       | 500                |
 *
 * @example
 * ```sh
 * TIMEBOUND_REPORT_DIR=./leaks node --import timebound/register server.js
 * kill -USR2 <pid>   # a dump in ./leaks/sigusr2-1/; another at exit in ./leaks/
 * ```
 */
import { optionsFromEnv, trackingFromEnv } from "./env.js";
import { track } from "./track.js";

try {
  const PRELOAD = "timebound/register";
  if (trackingFromEnv(process.env, PRELOAD) !== false) track(optionsFromEnv(process.env, PRELOAD));
} catch (err) {
  // The message names this preload already ("timebound/register: environment variable ...").
  const message = (err as Error).message;
  const text = message.startsWith("timebound/register: ")
    ? message
    : `timebound/register: ${message}`;
  process.stderr.write(`${text}\n`);
  process.exit(1);
}
