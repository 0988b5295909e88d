import type { Context } from "../../core/index.js";
import { checkContext, describeValue, invalidType } from "../../core/internal.js";
import type { CallOptions, Metadata } from "@grpc/grpc-js";
import { bindCall } from "./bound-call.js";
import { checkCallOptions } from "./call-options.js";
import { type MethodKind, clientMethod } from "./client-method.js";

/**
 * A client call about to start, its arguments checked.
 *
 * @internal
 */
export interface OutgoingCall {
  /** The context the call runs under: the caller's, or a child for an earlier `options.deadline`. */
  readonly ctx: Context;
  /**
   * Calls the client's method, with the client as `this`: `before` (the request, if the method
   * takes one), the metadata if given, the options with the context's deadline, then `after`
   * (the callback, if it takes one).
   */
  start(before: readonly unknown[], after: readonly unknown[]): unknown;
  /**
   * Ends the child context made for an earlier `options.deadline` (undefined without one), once
   * the call's outcome has reached the caller.
   */
  readonly release: (() => void) | undefined;
}

/**
 * Checks what a helper was given (context, client, method of the right kind, metadata,
 * options), naming `fn` in any error, and prepares the call with the context's deadline.
 *
 * @internal
 */
export function outgoingCall(
  fn: string,
  kind: MethodKind,
  ctx: Context,
  client: object,
  method: string,
  metadata: Metadata | undefined,
  options: CallOptions | undefined,
): OutgoingCall {
  checkContext(ctx, fn);
  const m = clientMethod(client, method, kind, fn);
  const md = metadataArgs(metadata, fn);
  const checked = checkCallOptions(options, fn);
  const bound = bindCall(ctx, checked, `${fn}(${method})`);
  return {
    ctx: bound.ctx,
    start(before, after) {
      try {
        return m.call(client, ...before, ...md, bound.options, ...after);
      } catch (err) {
        bound.release?.();
        throw err;
      }
    },
    release: bound.release,
  };
}

/** The metadata argument as grpc-js's methods take it: left out when not given. */
function metadataArgs(metadata: Metadata | undefined, fn: string): [] | [Metadata] {
  if (metadata === undefined) return [];
  const getMap: unknown = (metadata as { getMap?: unknown } | null)?.getMap;
  if (typeof getMap !== "function") {
    throw invalidType(
      `${fn}: metadata must be a grpc-js Metadata or undefined, got ${describeValue(metadata)}`,
    );
  }
  return [metadata];
}
