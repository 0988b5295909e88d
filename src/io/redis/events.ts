import * as diagnosticsChannel from "node:diagnostics_channel";

/**
 * Channels on which timebound/redis announces what it did. As in the core, messages are built
 * only while someone subscribes.
 *
 * @example
 * ```ts
 * import * as diagnosticsChannel from "node:diagnostics_channel";
 * diagnosticsChannel.subscribe("timebound:redis:late-reply", (m) => {
 *   const late = m as LateReply;
 *   if (late.outcome === "restore-failed") saveSomewhere(late.command, late.reply);
 * });
 * ```
 */
export const redisChannels = {
  /**
   * A `LateReply`: a reply came after its caller was released, and whatever it took has been
   * put back, or could not be (once per late reply, after the attempt).
   */
  lateReply: diagnosticsChannel.channel("timebound:redis:late-reply"),
} as const;
