// The core's interface for timebound's other layers (sync, io, diagnostics, testing, lab, cli):
// what they may use of the core besides its public API (core/index.ts) and core/introspect.ts.
// A lint rule keeps every file outside core on these three modules.
export { type CancelContext, type Link, asParent, keepAliveUntilDone } from "./context.js";
export { isForeignContext } from "./foreign.js";
export { Watcher, endedError, unwatch, watch } from "./watch.js";
export { type Announced, announceOpEnd, announceOpStart } from "./events.js";
export { describeValue, formatMs } from "./describe.js";
export { type ErrorBrand, brandInstance, defineErrorClass, hasKind } from "./error-brand.js";
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
export { checkContext, expire } from "./internal-context.js";
export {
  MAX_TIMER_DELAY_MS,
  TIMER_SLACK_MS,
  capDelay,
  startInterval,
  startTimer,
} from "./timer.js";
export { moduleFile } from "./module-file.js";
export { isBudget, moveDeadline, withBudget } from "./budget.js";
export { captureSite, siteCapture, siteLocation, type CreationSite } from "./site.js";
