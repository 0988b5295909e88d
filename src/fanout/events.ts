// timebound/fanout announces its decisions on diagnostics channels, built only while a channel
// has subscribers: an unobserved batch pays one property read per event.
import * as diagnosticsChannel from "node:diagnostics_channel";
import type { Context } from "../core/index.js";
import type { CallStatus } from "./errors.js";

/**
 * The channels of `timebound/fanout`, each with its message type:
 *
 * - `timebound:fanout:budget` ({@link BudgetMessage}): a batch split its time among its calls.
 * - `timebound:fanout:compensate` ({@link CompensateMessage}): a call finished before its
 *   budget ran out and the time it left was given to calls still running.
 * - `timebound:fanout:call` ({@link CallEndMessage}): a call of a batch ended.
 * - `timebound:fanout:batch` ({@link BatchEndMessage}): a batch settled.
 * - `timebound:fanout:chain` ({@link ChainStepMessage}): a step of a chain got its budget.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe("timebound:fanout:compensate", (m) => {
 *   const { from, unusedMs, grants } = m as CompensateMessage;
 *   for (const g of grants) log.debug(`${String(g.key)} +${g.addMs} ms from ${String(from)} (${unusedMs} ms left unused)`);
 * });
 * ```
 */
export const fanoutChannels = {
  /** `timebound:fanout:budget`: {@link BudgetMessage}. */
  budget: diagnosticsChannel.channel("timebound:fanout:budget"),
  /** `timebound:fanout:compensate`: {@link CompensateMessage}. */
  compensate: diagnosticsChannel.channel("timebound:fanout:compensate"),
  /** `timebound:fanout:call`: {@link CallEndMessage}. */
  call: diagnosticsChannel.channel("timebound:fanout:call"),
  /** `timebound:fanout:batch`: {@link BatchEndMessage}. */
  batch: diagnosticsChannel.channel("timebound:fanout:batch"),
  /** `timebound:fanout:chain`: {@link ChainStepMessage}. */
  chain: diagnosticsChannel.channel("timebound:fanout:chain"),
} as const;

/** One call's share in a {@link BudgetMessage}. */
export interface CallBudget {
  /** The call's key: its index or its property name in the calls. */
  readonly key: string | number;
  /** The dependency it calls: the key of its latency history. */
  readonly dependency: string;
  /** Its budget in ms (Infinity when the batch has no deadline). */
  readonly budgetMs: number;
  /** p95 × weight × load factor: what its share is proportional to. */
  readonly raw: number;
  /** The P95 used, in ms; `prior` says it was the configured prior (no history yet). */
  readonly p95Ms: number;
  /** Whether `p95Ms` is the prior (the dependency has no history yet). */
  readonly prior: boolean;
  /** Its importance in the split. */
  readonly weight: number;
  /** The dependency's load factor used (1 without a tracker). */
  readonly loadFactor: number;
  /** Whether the batch can do without it. */
  readonly optional: boolean;
}

/** `timebound:fanout:budget`: how a batch split its time, published when it starts. */
export interface BudgetMessage {
  /** The batch's name. */
  readonly batch: string;
  /** The batch's own context: under the caller's, with its `timeoutMs`. */
  readonly context: Context;
  /** "all", "allSettled", "any" or "quorum(n)". */
  readonly mode: string;
  /** "parallel" or "proportional" (see allocateBudget). */
  readonly allocation: string;
  /** The batch's time left when it started (Infinity without a deadline). */
  readonly totalMs: number;
  /** Kept back from the calls (see allocateBudget). */
  readonly reserveMs: number;
  /** Each call's share, in input order. */
  readonly calls: readonly CallBudget[];
}

/** One grant of a {@link CompensateMessage}. */
export interface Grant {
  /** The key of the call that got the time. */
  readonly key: string | number;
  /** Milliseconds added to its deadline. */
  readonly addMs: number;
  /** Its deadline afterwards (monotonic ms, `now()`). */
  readonly deadline: number;
}

/** `timebound:fanout:compensate`: the time a finished call did not use, given to the others. */
export interface CompensateMessage {
  /** The batch's name. */
  readonly batch: string;
  /** The batch's own context: under the caller's, with its `timeoutMs`. */
  readonly context: Context;
  /** The call that finished. */
  readonly from: string | number;
  /** How it finished. */
  readonly status: CallStatus;
  /** Its deadline minus the time it finished: what was shared. */
  readonly unusedMs: number;
  /** Who got what, in proportion to their raw shares. */
  readonly grants: readonly Grant[];
  /** What could not be given because every call still running reached the batch's deadline. */
  readonly unallocatedMs: number;
}

/** `timebound:fanout:call`: a call of a batch ended. */
export interface CallEndMessage {
  /** The batch's name. */
  readonly batch: string;
  /** The call's key: its index or its property name in the calls. */
  readonly key: string | number;
  /** The dependency it called: the key of its latency history. */
  readonly dependency: string;
  /** How it ended. */
  readonly status: CallStatus;
  /** How long it ran, in ms. */
  readonly durationMs: number;
  /** Its budget when it ended (its first one plus what it was given). */
  readonly budgetMs: number;
  /** Its error, or its context's error; undefined when it succeeded. */
  readonly reason: unknown;
}

/** `timebound:fanout:batch`: a batch settled. */
export interface BatchEndMessage {
  /** The batch's name. */
  readonly batch: string;
  /** The batch's own context: under the caller's, with its `timeoutMs`. */
  readonly context: Context;
  /** "all", "allSettled", "any" or "quorum(n)". */
  readonly mode: string;
  /** "fulfilled" when it resolved, "rejected" otherwise. */
  readonly outcome: "fulfilled" | "rejected";
  /** From its start to its settling, in ms. */
  readonly durationMs: number;
  /** The keys of the parts without a value. */
  readonly missing: readonly (string | number)[];
}

/** `timebound:fanout:chain`: a step of a chain got its budget. */
export interface ChainStepMessage {
  /** The chain's name. */
  readonly chain: string;
  /** The context the chain runs under (the caller's). */
  readonly context: Context;
  /** The step's index, from 0. */
  readonly step: number;
  /** The step's name (default "step-<i>"). */
  readonly name: string;
  /** The chain's time left when the step started. */
  readonly remainingMs: number;
  /** The step's budget: its raw share of what is left (Infinity without a deadline). */
  readonly budgetMs: number;
}
