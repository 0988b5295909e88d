import {
  MAX_TIMER_DELAY_MS,
  type OptionsReader,
  type Range,
  describeValue,
  invalidType,
  outOfRange,
  readOptions,
} from "../../core/internal.js";
import type { SpawnOptions as NodeSpawnOptions } from "node:child_process";
import { constants } from "node:os";
import { PROCESS_DESCENDANTS } from "./descendants.js";
import type { Escalation } from "./terminate.js";

/**
 * How a child is stopped when its context ends. Every function of `timebound/process` takes these.
 *
 * @example
 * ```ts
 * // a server that drains on SIGINT, given 10 s before SIGKILL
 * spawn(ctx, "./server", [], { killSignal: "SIGINT", graceMs: 10_000 });
 * ```
 */
export interface StopOptions {
  /**
   * Milliseconds between the first signal and SIGKILL for whatever of the tree (see
   * {@link StopOptions.tree}) is still running. Default {@link DEFAULT_GRACE_MS} (2000); from 0
   * (SIGKILL right after the first signal) to 2,147,483,647.
   */
  readonly graceMs?: number;
  /**
   * The first signal sent to the whole tree (see {@link StopOptions.tree}) when the context ends.
   * Default "SIGTERM".
   */
  readonly killSignal?: NodeJS.Signals | number;
  /**
   * Which processes the context's end stops (both signals and `graceMs` apply to all of them, and
   * `stopped` waits for all of them). Default `"group"`.
   * - `"group"`: the child's process group: the child and what it started, unless they left the
   *   group. A process that calls `setsid` (`setsid cmd &`, a daemon forking twice, a shell with
   *   job control) starts a group of its own and is not reached: it keeps running, and once the
   *   group is empty `stopped` reports `"exited"` or `"terminated"` without it.
   * - `"descendants"` (Linux: see {@link PROCESS_DESCENDANTS}; elsewhere the call fails): the
   *   group, and every process that carries the child's mark, an environment variable
   *   (`TIMEBOUND_PROCESS_TREE_<id>=1`) that the child gets and each process it starts inherits,
   *   wherever it was re-parented. Costs: a copy of the environment per spawn, and a synchronous
   *   scan of `/proc` (10 to 30 µs per process on the host) when the context ends and at each
   *   check while waiting for the processes to go. Not reached: a process that cleared or
   *   replaced its environment (`env -i`, `sudo`), or runs as another user. Not the default,
   *   because those scans grow with the host, and because programs that start a shared daemon on
   *   demand (gpg-agent, build servers) expect it to outlive the command.
   *
   * Either way, the context's end is what stops them: once the child has exited and its stdio has
   * closed by itself, the processes it left running are left alone.
   */
  readonly tree?: ProcessTreeMode;
}

/**
 * The values of {@link StopOptions.tree}.
 *
 * @example
 * ```ts
 * const tree: ProcessTreeMode = PROCESS_DESCENDANTS ? "descendants" : "group";
 * ```
 */
export type ProcessTreeMode = "group" | "descendants";

/** Node's options that the context replaces, or that timebound sets itself. */
type Replaced = "signal" | "timeout" | "detached";
/** Those, and the one timebound reads itself ({@link StopOptions.killSignal}). */
type Managed = Replaced | "killSignal";

/**
 * Options of {@link spawn}: Node's `child_process.spawn` options, without `signal` and `timeout`
 * (the context does their job) and `detached` (set for you: the child leads its own process
 * group on POSIX), plus {@link StopOptions}.
 *
 * @example
 * ```ts
 * spawn(ctx, "make", ["-j4"], { cwd: repo, stdio: "inherit", graceMs: 5000 });
 * ```
 */
export interface SpawnOptions extends Omit<NodeSpawnOptions, Managed>, StopOptions {}

/**
 * Options of {@link exec} and {@link execFile} beyond the spawn options they share.
 *
 * @example
 * ```ts
 * await execFile(ctx, "jq", [".name"], { input: json, maxBuffer: 64 * 1024 });
 * ```
 */
export interface OutputOptions
  extends Omit<NodeSpawnOptions, Managed | "stdio" | "shell">, StopOptions {
  /** How stdout and stderr are decoded. Default "utf8". */
  readonly encoding?: BufferEncoding;
  /**
   * The most bytes kept from stdout, and from stderr; past it the process group is stopped and the
   * promise rejects with {@link OutputLimitError}. Default 1 MiB (Node's own default); any
   * positive number, or Infinity.
   */
  readonly maxBuffer?: number;
  /** Written to the child's stdin, which is then closed. Default: stdin is /dev/null. */
  readonly input?: string | Uint8Array;
}

/**
 * Options of {@link exec}: the command always runs in a shell.
 *
 * @example
 * ```ts
 * await exec(ctx, "git log -1 --format=%H", { cwd: repo, maxBuffer: 4096 });
 * ```
 */
export interface ExecOptions extends OutputOptions {
  /** The shell that runs the command. Default "/bin/sh" (Node's default for `shell: true`). */
  readonly shell?: string;
}

/**
 * Options of {@link execFile}: no shell unless asked for.
 *
 * @example
 * ```ts
 * await execFile(ctx, "ffprobe", ["-v", "quiet", file], { encoding: "latin1" });
 * ```
 */
export interface ExecFileOptions extends OutputOptions {
  /** Run the file through a shell (true: "/bin/sh", or a shell's path). Default false. */
  readonly shell?: boolean | string;
}

/**
 * The default for {@link StopOptions.graceMs}: long enough for a clean shutdown, short enough to
 * wait for.
 *
 * @example
 * ```ts
 * spawn(ctx, "./slow-to-stop", [], { graceMs: 5 * DEFAULT_GRACE_MS });
 * ```
 */
export const DEFAULT_GRACE_MS = 2000;
/**
 * The default for {@link OutputOptions.maxBuffer}: 1 MiB, as Node's `exec`.
 *
 * @example
 * ```ts
 * await exec(ctx, "git log", { maxBuffer: 16 * DEFAULT_MAX_BUFFER });
 * ```
 */
export const DEFAULT_MAX_BUFFER = 1024 * 1024;

const REPLACED: Record<Replaced, string> = {
  signal:
    "is not used: the context stops the process (adopt an AbortSignal with fromSignal(signal))",
  timeout: "is not used: give the context a deadline instead (withTimeout(ctx, ms))",
  detached:
    "is set by timebound: on POSIX the child always leads its own process group, so that the " +
    "whole tree can be stopped",
};

/** The range of {@link StopOptions.graceMs}: what a timer can wait. */
const GRACE_RANGE: Range = { min: 0, max: MAX_TIMER_DELAY_MS };
const TREE_MODES: readonly ProcessTreeMode[] = ["group", "descendants"];

/**
 * @internal The options of `fn`, checked to be an object. They extend Node's spawn options, so
 * keys timebound does not own pass through (Node checks them); only timebound's own are read here.
 */
export function processOptions<T extends StopOptions>(
  options: T | undefined,
  fn: string,
): OptionsReader<T> {
  return readOptions(options, fn);
}

/** @internal Validates the stop options and refuses the Node options the context replaces. */
export function escalation(o: OptionsReader<StopOptions>): Escalation {
  for (const [name, why] of Object.entries(REPLACED)) {
    if ((o.given as Record<string, unknown>)[name] !== undefined) {
      throw invalidType(`${o.fn}: options.${name} ${why}`);
    }
  }
  const graceMs = o.ms("graceMs", DEFAULT_GRACE_MS, GRACE_RANGE);
  const givenSignal = o.raw("killSignal");
  const killSignal: unknown = givenSignal === undefined ? "SIGTERM" : givenSignal;
  if (!isSignal(killSignal)) {
    throw invalidType(
      `${o.fn}: options.killSignal must be a signal name such as "SIGTERM" or "SIGINT", or its ` +
        `number, got ${describeValue(killSignal)}`,
    );
  }
  return { graceMs, killSignal };
}

/** @internal The {@link StopOptions.tree} option, checked against what this platform offers. */
export function treeMode(o: OptionsReader<StopOptions>): ProcessTreeMode {
  const tree = o.oneOf("tree", "group", TREE_MODES);
  if (tree === "descendants" && !PROCESS_DESCENDANTS) {
    throw invalidType(
      `${o.fn}: options.tree "descendants" needs Linux's /proc, which ${process.platform} does ` +
        `not have here; use "group", or choose by PROCESS_DESCENDANTS`,
    );
  }
  return tree;
}

function isSignal(value: unknown): value is NodeJS.Signals | number {
  if (typeof value === "string") return Object.hasOwn(constants.signals, value);
  return typeof value === "number" && Object.values(constants.signals).includes(value);
}

/** @internal The argument list, checked: undefined gives none. */
export function checkArgs(fn: string, args: unknown): readonly string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw invalidType(`${fn}: args must be an array of strings, got ${describeValue(args)}`);
  }
  return args;
}

/** @internal The output options, checked, with their defaults filled in. */
export function outputOptions(o: OptionsReader<OutputOptions>): {
  encoding: BufferEncoding;
  maxBuffer: number;
  input: string | Uint8Array | undefined;
} {
  const fn = o.fn;
  const givenEncoding = o.raw("encoding");
  const encoding: unknown = givenEncoding === undefined ? "utf8" : givenEncoding;
  if (typeof encoding !== "string" || !Buffer.isEncoding(encoding)) {
    throw invalidType(
      `${fn}: options.encoding must be a text encoding such as "utf8" or "latin1", got ` +
        `${describeValue(encoding)} (for bytes, use spawn() and read child.stdout)`,
    );
  }
  // Any positive number, fractions included, as before: not a range checkNumber can say.
  const givenMax = o.raw("maxBuffer");
  const maxBuffer: unknown = givenMax === undefined ? DEFAULT_MAX_BUFFER : givenMax;
  if (typeof maxBuffer !== "number" || !(maxBuffer > 0)) {
    const message =
      `${fn}: options.maxBuffer must be a positive number of bytes or Infinity, got ` +
      describeValue(maxBuffer);
    throw typeof maxBuffer === "number" ? outOfRange(message) : invalidType(message);
  }
  const input: unknown = o.raw("input");
  if (input !== undefined && typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw invalidType(
      `${fn}: options.input must be a string or a Uint8Array, got ${describeValue(input)}`,
    );
  }
  return { encoding, maxBuffer, input };
}
