export { sleep } from "./sleep.js";
export { ticker, type Tick } from "./ticker.js";
export { Channel, ChannelClosedError, type ClosedResult, type RecvResult } from "./channel.js";
export {
  select,
  type DefaultResult,
  type RecvCase,
  type SelectCase,
  type SelectOptions,
  type SelectResult,
  type SendCase,
} from "./select.js";
export { Group, type GroupTask } from "./group.js";
export { Semaphore } from "./semaphore.js";
