// Every diagnostics_channel channel that diagnostics listens on, in one place. They all belong
// to the core's registry (`channels`, exported by `timebound`; docs/diagnostics-channels.md);
// diagnostics publishes on none.
import { channels } from "../core/index.js";
import * as diagnosticsChannel from "node:diagnostics_channel";

/** @internal The core's channels that tracking subscribes to while it runs. */
export const listenedChannels = {
  /** `timebound:context:created` (`ContextCreatedMessage`): records each cancellable context. */
  contextCreated: channels.created,
  /** `timebound:context:ended` (`ContextEndedMessage`): drops its record from the live ones. */
  contextEnded: channels.ended,
  /** `timebound:deadline:fired` (`DeadlineFiredMessage`): a deadline timer that fired late. */
  deadlineFired: channels.deadlineFired,
  /** `timebound:op:start` (`OperationMessage`): a wait or adapter work under a context. */
  opStart: channels.opStart,
  /** `timebound:op:end` (`OperationEndMessage`): that operation stopped. */
  opEnd: channels.opEnd,
  /** `timebound:context:cancel-after-end`: a holder's late cancel(), so not a lost cancel. */
  cancelAfterEnd: channels.cancelAfterEnd,
} as const;

/**
 * @internal The HTTP server adapters' announcement of each request context (`timebound:http:request`,
 * `RequestContextMessage` of src/io/http/events.ts), taken by name so that diagnostics loads
 * nothing of timebound/http: contexts made under a request are labelled with its route.
 */
export const requestContextChannel = diagnosticsChannel.channel("timebound:http:request");

/**
 * @internal What diagnostics reads of a `timebound:http:request` message: the shape of
 * `RequestContextMessage` (src/io/http/events.ts), restated here because diagnostics imports
 * nothing above the core; each field is checked before use.
 */
export interface RequestAnnouncement {
  readonly context?: unknown;
  readonly request?: unknown;
  readonly method?: unknown;
  readonly path?: unknown;
}

/**
 * @internal undici's channels (Node's global `fetch`): a request made, and its end on the wire
 * (the body's last byte, `trailers`) or its failure (`error`, an abort included), so that an
 * ambient fetch is followed until its body is read or cut off.
 */
export const undiciChannels = {
  create: diagnosticsChannel.channel("undici:request:create"),
  trailers: diagnosticsChannel.channel("undici:request:trailers"),
  error: diagnosticsChannel.channel("undici:request:error"),
} as const;
