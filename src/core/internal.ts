// The core's interface for timebound's other layers (sync, io, diagnostics, testing, lab, cli):
// what they may use of the core besides its public API (core/index.ts) and core/introspect.ts.
// A lint rule keeps every file outside core on these three modules. Every export is @internal:
// the published declarations (stripInternal) hold none of it.
/** @internal */
export { type CancelContext, type Link, asParent, keepAliveUntilDone } from "./context.js";
/** @internal */
export { isForeignContext } from "./foreign.js";
/** @internal */
export { Watcher, endedError, unwatch, watch, watchOrEnd } from "./watch.js";
/** @internal */
export { type Announced, announceOpEnd, announceOpStart } from "./events.js";
/** @internal */
export { describeValue, formatMs } from "./describe.js";
/** @internal */
export { type ErrorBrand, brandInstance, defineErrorClass, hasKind } from "./error-brand.js";
/** @internal */
export {
  INVALID_ARGUMENT,
  OptionsReader,
  type Range,
  UNKNOWN_OPTION,
  checkBoolean,
  checkFunction,
  checkMs,
  checkNumber,
  checkOneOf,
  checkString,
  invalidType,
  optionsObject,
  outOfRange,
  readOptions,
  unknownOption,
} from "./validate.js";
/** @internal */
export { checkContext, expire } from "./internal-context.js";
/** @internal */
export {
  MAX_TIMER_DELAY_MS,
  TIMER_SLACK_MS,
  capDelay,
  startInterval,
  startTimer,
} from "./timer.js";
/** @internal */
export { type QueuedTimer, cancelQueued, queueKeptTimer } from "./deadline-queue.js";
/** @internal */
export { moduleFile } from "./module-file.js";
/** @internal */
export { isBudget, moveDeadline, withBudget } from "./budget.js";
/** @internal */
export { captureSite, siteCapture, siteLocation, type CreationSite } from "./site.js";
