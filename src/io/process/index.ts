/**
 * timebound/process: child processes bound to a context. When the context ends, the child's
 * whole process group is stopped (SIGTERM, then SIGKILL after a grace period), including what a
 * shell or the child itself started, which `child_process` with a `signal` leaves running
 * (nodejs/node#46865, #37518).
 *
 * Process groups are POSIX: on Linux and macOS each child is spawned `detached`, so it leads a
 * group of its own (Node still waits for it, as for any child, unless you call `child.unref()`).
 * Because of that, a Ctrl-C in a terminal reaches your Node process but not the children; stop
 * them through their context. On Windows there are no process groups: the child alone is killed
 * (`child.kill()`), and processes it started live on. A process that leaves the group on purpose
 * (a daemon calling `setsid`, a shell with job control) is not reached either, unless the option
 * `tree: "descendants"` (Linux) is given: then every process that inherited the child's marked
 * environment is stopped too, wherever it went (see {@link StopOptions.tree}).
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { exec } from "timebound/process";
 *
 * using ctx = withTimeout(background(), 200);
 * await exec(ctx, "sleep 30 & sleep 30"); // DeadlineExceeded at 200 ms; both sleeps are gone
 * ```
 * @module timebound/process
 */
export { spawn, type ContextProcess } from "./spawn.js";
export { exec, execFile, type ExecResult } from "./exec.js";
export {
  OutputLimitError,
  isExecContextError,
  type ExecContextError,
  type PartialOutput,
} from "./errors.js";
export type { ProcessExit } from "./launch.js";
export {
  KILL_WAIT_MS,
  type ProcessStop,
  type ProcessStopOutcome,
  type StopOutcome,
} from "./terminate.js";
export { PROCESS_GROUPS } from "./group.js";
export { PROCESS_DESCENDANTS } from "./descendants.js";
export {
  DEFAULT_GRACE_MS,
  DEFAULT_MAX_BUFFER,
  type ExecFileOptions,
  type ExecOptions,
  type OutputOptions,
  type ProcessTreeMode,
  type SpawnOptions,
  type StopOptions,
} from "./options.js";
