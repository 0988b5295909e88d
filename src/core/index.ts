export type { CancelableContext, Context, ContextOptions } from "./context.js";
export { Key } from "./context.js";
export {
  background,
  cause,
  createKey,
  todo,
  withCancel,
  withCancelCause,
  withDeadline,
  withDeadlineCause,
  withTimeout,
  withTimeoutCause,
  withValue,
  withoutCancel,
} from "./derive.js";
export { afterFunc } from "./after-func.js";
export { fromSignal, type FromSignalOptions } from "./from-signal.js";
export { current, run } from "./ambient.js";
export {
  Canceled,
  ContextError,
  DeadlineExceeded,
  isCanceled,
  isDeadlineExceeded,
  isTimeboundError,
  type TimeboundError,
} from "./errors.js";
export {
  explain,
  LATE_NOTICE_MS,
  type ContextInfo,
  type EndOrigin,
  type EndReason,
  type Explanation,
} from "./explain.js";
export { now } from "./clock.js";
export {
  channels,
  type ContextCreatedMessage,
  type CancelAfterEndMessage,
  type ContextEndedMessage,
  type DeadlineFiredMessage,
  type OperationEndMessage,
  type OperationMessage,
} from "./events.js";
export { captureCreationSites, setTracking } from "./site.js";
export { isContext } from "./is-context.js";
