/**
 * timebound/fanout: many calls under one deadline (the seed's 3.1 and 3.2).
 *
 * {@link batch} runs calls concurrently under one deadline, in mode `all` (the first required
 * failure cancels the rest, as errgroup.WithContext), `allSettled`, `any` (the first success
 * cancels the rest) or {@link quorum}, with typed results in the shape of the calls, optional
 * parts and a concurrency limit. Each call gets a budget by the seed's rule
 * ({@link allocateBudget}: P95 × weight × load factor, from a {@link LatencyTracker}), and what a
 * call that finished early did not use goes to the calls still running (drift compensation).
 * {@link chain} does the same for steps run one after the other; {@link fanoutFetch} for N HTTP
 * calls merged into one answer with the missing parts named. Decisions are announced on
 * `timebound:fanout:*` ({@link fanoutChannels}).
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * const latency = new LatencyTracker();
 * using ctx = withTimeout(background(), 300, { name: "product-page" });
 * const { values, missing } = await batch(
 *   ctx,
 *   {
 *     product: async (ctx) => (await fetch("http://127.0.0.1:8081/p/1", { signal: ctx.signal })).json(),
 *     reviews: {
 *       run: async (ctx) => (await fetch("http://127.0.0.1:8082/r/1", { signal: ctx.signal })).json(),
 *       optional: true,
 *       weight: 0.3,
 *     },
 *   },
 *   { tracker: latency },
 * );
 * console.log(values.product, values.reviews ?? "no reviews", missing.map((m) => m.message));
 * ```
 * @module timebound/fanout
 */
export {
  allocateBudget,
  shareUnused,
  type AllocateOptions,
  type Allocation,
  type AllocationMode,
  type DependencyBudget,
  type DependencyInput,
  type RunningShare,
} from "./allocate.js";
export {
  batch,
  quorum,
  type BatchMode,
  type BatchOptions,
  type BatchOutcomes,
  type BatchResult,
  type BatchValues,
  type Call,
  type CallFn,
  type CallOutcome,
  type Calls,
  type CallSpec,
  type CallValue,
  type Quorum,
} from "./batch.js";
export { chain, type ChainOptions, type ChainStep, type ChainValues } from "./chain.js";
export {
  BatchFailedError,
  CallNotNeededError,
  UpstreamStatusError,
  type CallStatus,
  type MissingPart,
} from "./errors.js";
export {
  fanoutChannels,
  type BatchEndMessage,
  type BudgetMessage,
  type CallBudget,
  type CallEndMessage,
  type ChainStepMessage,
  type CompensateMessage,
  type Grant,
} from "./events.js";
export {
  fanoutFetch,
  type BodyReader,
  type FanoutFetchOptions,
  type FanoutFetchResult,
  type FanoutRequest,
} from "./fetch.js";
export { LatencyTracker, type DependencyStats, type LatencyTrackerOptions } from "./latency.js";
