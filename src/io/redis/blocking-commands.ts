// Which commands block on the server, where their timeout argument sits, and how to rewrite it
// from the context's remaining budget, so the server stops waiting by itself even if the client
// that should have unblocked it is gone.
import { describeValue, invalidType } from "../../core/internal.js";
import type { RedisArgument } from "./driver.js";

type Unit = "s" | "ms";

interface BlockingShape {
  readonly unit: Unit;
  /** Index of the timeout argument, or undefined when this call does not block (XREAD without BLOCK). */
  timeoutIndex(args: readonly RedisArgument[]): number | undefined;
  /** Where to say the timeout is, in an error message. */
  readonly where: string;
  /** Whether `reply` is what the command answers when its server-side timeout passes first. */
  timedOut(reply: unknown, args: readonly RedisArgument[]): boolean;
  /** Index of the first key (what a cluster routes by), or undefined for a command without. */
  keyIndex(args: readonly RedisArgument[]): number | undefined;
}

const isNull = (reply: unknown): boolean => reply === null;
const last = (args: readonly RedisArgument[]): number => args.length - 1;
const first = (): number => 0;

const noKey = (): undefined => undefined;

/** BLPOP key... timeout, BLMOVE source destination from to timeout... */
const lastArgumentSeconds: BlockingShape = {
  unit: "s",
  timeoutIndex: last,
  where: "its last argument",
  timedOut: isNull,
  keyIndex: first,
};
/** BLMPOP timeout numkeys key... */
const firstArgumentSeconds: BlockingShape = {
  unit: "s",
  timeoutIndex: first,
  where: "its first argument",
  timedOut: isNull,
  keyIndex: () => 2,
};
const blockOption: BlockingShape = {
  unit: "ms",
  timeoutIndex: (args) => optionIndex(args, "BLOCK"),
  where: "the value after BLOCK",
  timedOut: isNull,
  keyIndex: (args) => optionIndex(args, "STREAMS"),
};

const SHAPES: ReadonlyMap<string, BlockingShape> = new Map([
  ["blpop", lastArgumentSeconds],
  ["brpop", lastArgumentSeconds],
  ["brpoplpush", lastArgumentSeconds],
  ["blmove", lastArgumentSeconds],
  ["bzpopmin", lastArgumentSeconds],
  ["bzpopmax", lastArgumentSeconds],
  ["blmpop", firstArgumentSeconds],
  ["bzmpop", firstArgumentSeconds],
  ["xread", blockOption],
  ["xreadgroup", blockOption],
  [
    "wait", // WAIT numreplicas timeout: answers how many replicas acknowledged
    {
      unit: "ms",
      timeoutIndex: () => 1,
      where: "its second argument",
      timedOut: (reply, args) => Number(reply) < Number(args[0]),
      keyIndex: noKey,
    },
  ],
  [
    "waitaof", // WAITAOF numlocal numreplicas timeout: answers [local, replicas]
    {
      unit: "ms",
      timeoutIndex: () => 2,
      where: "its third argument",
      timedOut: (reply, args) =>
        !Array.isArray(reply) ||
        Number(reply[0]) < Number(args[0]) ||
        Number(reply[1]) < Number(args[1]),
      keyIndex: noKey,
    },
  ],
]);

/**
 * Index of the value after `option` (BLOCK, or STREAMS: the first key) in XREAD [COUNT n]
 * [BLOCK ms] STREAMS ... or XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS ...
 */
function optionIndex(args: readonly RedisArgument[], option: string): number | undefined {
  for (let i = 0; i < args.length;) {
    const token = String(args[i]).toUpperCase();
    if (token === option) return i + 1;
    if (token === "GROUP") i += 3;
    else if (token === "COUNT" || token === "BLOCK") i += 2;
    else if (token === "NOACK") i += 1;
    else return undefined; // STREAMS (keys follow, and a key may be called "block") or unknown
  }
  return undefined;
}

/**
 * A blocking call, ready to have its timeout set from a budget.
 *
 * @internal
 */
export interface BlockingCommand {
  /** Lower-case command name. */
  readonly name: string;
  readonly shape: BlockingShape;
  readonly index: number;
  /** The caller's own timeout in ms; Infinity for 0 (block forever). */
  readonly givenMs: number;
}

/**
 * Recognises a blocking call and checks its timeout argument; undefined for a command that does
 * not block (including XREAD without BLOCK). Throws a TypeError naming `fn` for a timeout that is
 * missing, not a number, or negative.
 *
 * @internal
 */
export function blockingCommand(
  name: string,
  args: readonly RedisArgument[],
  fn: string,
): BlockingCommand | undefined {
  const lower = name.toLowerCase();
  const shape = SHAPES.get(lower);
  if (shape === undefined) return undefined;
  const index = shape.timeoutIndex(args);
  if (index === undefined) return undefined;
  const raw = args[index];
  const value = raw === undefined ? Number.NaN : Number(String(raw).trim() || Number.NaN);
  if (!Number.isFinite(value) || value < 0) {
    const unit = shape.unit === "s" ? "seconds" : "milliseconds";
    throw invalidType(
      `${fn}: ${name.toUpperCase()} needs a timeout (${shape.where}) in ${unit}, a number >= 0; ` +
        `got ${describeValue(raw)}`,
    );
  }
  const givenMs = value === 0 ? Infinity : shape.unit === "s" ? value * 1000 : value;
  return { name: lower, shape, index, givenMs };
}

/**
 * The arguments to send, with the timeout cut to `budgetMs` when that is shorter.
 *
 * @internal
 */
export interface BudgetedArgs {
  readonly args: readonly RedisArgument[];
  /** Whether the timeout sent is the budget's rather than the caller's. */
  readonly fromBudget: boolean;
}

/**
 * Sets the timeout argument of `command` to the time left (`budgetMs`) when that is shorter than the
 * caller's own: seconds with three decimals (Redis >= 6 takes fractions) or whole milliseconds,
 * rounded up and never below 1 ms, since 0 would mean "block forever".
 *
 * @internal
 */
export function budgetArgs(
  command: BlockingCommand,
  args: readonly RedisArgument[],
  budgetMs: number,
): BudgetedArgs {
  if (!(budgetMs < command.givenMs)) return { args, fromBudget: false };
  const ms = Math.max(1, Math.ceil(budgetMs));
  const sent = [...args];
  sent[command.index] = command.shape.unit === "s" ? (ms / 1000).toFixed(3) : String(ms);
  return { args: sent, fromBudget: true };
}

/**
 * The first key of `command` (what a cluster routes it by); undefined for WAIT and WAITAOF.
 *
 * @internal
 */
export function firstKey(
  command: BlockingCommand,
  args: readonly RedisArgument[],
): RedisArgument | undefined {
  const index = command.shape.keyIndex(args);
  return index === undefined ? undefined : args[index];
}
