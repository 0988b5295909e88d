import * as diagnosticsChannel from "node:diagnostics_channel";

/** A message handler for one channel. */
export type Listener = (message: unknown) => void;

/**
 * @internal Subscribes `listeners` (channel name to handler) and returns what unsubscribes them
 * all, once. A handler that throws must not break the publisher (a policy, the core): its error
 * goes to `onError`, which defaults to a process warning.
 */
export function subscribeAll(
  listeners: Readonly<Record<string, Listener>>,
  onError: (err: unknown, channel: string) => void = warn,
): () => void {
  const subscribed: [string, Listener][] = [];
  for (const [name, listener] of Object.entries(listeners)) {
    const guarded: Listener = (message) => {
      try {
        listener(message);
      } catch (err) {
        onError(err, name);
      }
    };
    diagnosticsChannel.subscribe(name, guarded);
    subscribed.push([name, guarded]);
  }
  return () => {
    for (const [name, guarded] of subscribed.splice(0))
      diagnosticsChannel.unsubscribe(name, guarded);
  };
}

function warn(err: unknown, channel: string): void {
  process.emitWarning(`timebound/metrics: a handler of ${channel} threw: ${String(err)}`, {
    code: "TIMEBOUND_METRICS_HANDLER",
  });
}

/** @internal A string field of a message, or `fallback`. */
export function text(message: unknown, key: string, fallback = "unknown"): string {
  const v = field(message, key);
  return typeof v === "string" && v !== "" ? v : fallback;
}

/** @internal A numeric field of a message, or undefined. */
export function num(message: unknown, key: string): number | undefined {
  const v = field(message, key);
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** @internal One field of a message object, or undefined. */
export function field(message: unknown, key: string): unknown {
  return typeof message === "object" && message !== null
    ? (message as Record<string, unknown>)[key]
    : undefined;
}
