import type { Context } from "../core/index.js";
import {
  checkBoolean,
  checkContext,
  describeValue,
  invalidType,
  optionsObject,
  watchOrEnd,
} from "../core/internal.js";
import { Channel, ChannelClosedError } from "./channel.js";
import { ChannelWait, type Outcome } from "./channel-wait.js";

/** A select case that receives from `recv`. */
export interface RecvCase<T> {
  /** The channel to receive from. */
  readonly recv: Channel<T>;
}

/** A select case that sends `value` on `send`. */
export interface SendCase<T> {
  /** The channel to send on. */
  readonly send: Channel<T>;
  /** The value sent if this case is the one performed. */
  readonly value: T;
}

/** One case of a {@link select}: a receive or a send. */
export type SelectCase = RecvCase<unknown> | SendCase<unknown>;

/** Options for {@link select}. */
export interface SelectOptions {
  /** Go's `default:` case: if no case is ready now, resolve `{ index: -1 }` instead of waiting. */
  readonly default?: boolean;
}

/**
 * The outcome of case `C` at index `I` of a select: for a receive, `ok` and `value` as in
 * {@link RecvResult}; for a send, `ok` true and no value.
 */
type CaseOutcome<C, I extends number> =
  C extends RecvCase<infer T>
    ? | { readonly index: I; readonly ok: true; readonly value: T }
      | { readonly index: I; readonly ok: false; readonly value: undefined }
    : { readonly index: I; readonly ok: true; readonly value: undefined };

/**
 * The outcome of a select: `{ index, ok, value }`, where `index` is the case that ran (typed:
 * with a tuple of cases, checking `index` narrows `value` to that case's type); for a receive,
 * `ok` and `value` are as in {@link RecvResult}; for a send, `ok` is true and `value` undefined.
 */
export type SelectResult<Cs extends readonly SelectCase[]> = number extends Cs["length"]
  ? CaseOutcome<Cs[number], number> // an array, not a tuple: index and value are not tied
  : {
      [I in keyof Cs]: I extends `${infer N extends number}` ? CaseOutcome<Cs[I], N> : never;
    }[number];

/** The outcome of a select whose `default` case ran. */
export interface DefaultResult {
  /** -1: no case ran. */
  readonly index: -1;
  /** Always false. */
  readonly ok: false;
  /** Always undefined. */
  readonly value: undefined;
}

const DEFAULT: DefaultResult = Object.freeze({ index: -1, ok: false, value: undefined });

/**
 * Go's `select`: waits until one of `cases` can proceed and performs exactly that one. When
 * several are ready, one is chosen uniformly at random, so no case is starved. Rejects with
 * `ctx.err` if `ctx` ends first (the `case <-ctx.Done()` every Go select has), and at once if
 * it has already ended. A send case on a closed channel rejects with `ChannelClosedError`.
 *
 * @example
 * ```ts
 * const results = new Channel<number>();
 * const work = new Channel<string>(10);
 * const r = await select(ctx, [{ recv: results }, { send: work, value: "job 7" }] as const);
 * if (r.index === 0 && r.ok) console.log(r.value.toFixed(2)); // r.value: number
 * ```
 */
export function select<const Cs extends readonly SelectCase[]>(
  ctx: Context,
  cases: Cs,
  options: SelectOptions & { readonly default: true },
): Promise<SelectResult<Cs> | DefaultResult>;
export function select<const Cs extends readonly SelectCase[]>(
  ctx: Context,
  cases: Cs,
  options?: SelectOptions,
): Promise<SelectResult<Cs>>;
export function select(
  ctx: Context,
  cases: readonly SelectCase[],
  options?: SelectOptions,
): Promise<Outcome> {
  try {
    checkContext(ctx, "select");
    checkCases(cases);
    if (options !== undefined) checkOptions(options);
  } catch (bad) {
    return Promise.reject(bad); // a promise API rejects on bad arguments, as Node's do
  }
  const err = ctx.err;
  if (err !== undefined) return Promise.reject(err);

  const ready: number[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    if ("recv" in c ? c.recv.canRecv() : c.send.canSend()) ready.push(i);
  }
  if (ready.length > 0) {
    const index = ready[Math.floor(Math.random() * ready.length)]!;
    const c = cases[index]!;
    if ("recv" in c) {
      const r = c.recv.recvNow();
      return Promise.resolve({ index, ok: r.ok, value: r.value });
    }
    if (c.send.closed) return Promise.reject(new ChannelClosedError("send on closed channel"));
    c.send.sendNow(c.value);
    return Promise.resolve({ index, ok: true, value: undefined });
  }
  if (options?.default === true) return Promise.resolve(DEFAULT);

  return new Promise<Outcome>((resolve, reject) => {
    const wait = new ChannelWait(resolve, reject);
    cases.forEach((c, i) => {
      if ("recv" in c) wait.enqueue(c.recv.recvq, i, undefined);
      else wait.enqueue(c.send.sendq, i, c.value);
    });
    watchOrEnd(ctx, wait);
  });
}

function checkCases(cases: unknown): asserts cases is readonly SelectCase[] {
  if (!Array.isArray(cases)) {
    throw invalidType(`select: cases must be an array, got ${describeValue(cases)}`);
  }
  cases.forEach((c: unknown, i) => {
    const ch =
      typeof c === "object" && c !== null
        ? "recv" in c
          ? c.recv
          : "send" in c
            ? c.send
            : undefined
        : undefined;
    if (!(ch instanceof Channel)) {
      throw invalidType(
        `select: case ${i} must be { recv: Channel } or { send: Channel, value }, got ${describeValue(c)}`,
      );
    }
  });
}

const SELECT_OPTIONS: readonly (keyof SelectOptions)[] = ["default"];

/** Checked only when given: a select without options (the common case) allocates nothing. */
function checkOptions(options: SelectOptions): void {
  const given = optionsObject(options, "select", SELECT_OPTIONS);
  if (given.default !== undefined) checkBoolean(given.default, "select", "options.default");
}
