import { status } from "@grpc/grpc-js";
import { type ContextError, DeadlineExceeded } from "../../core/errors.js";

/**
 * The gRPC status a context's end travels as: DEADLINE_EXCEEDED for `DeadlineExceeded`,
 * CANCELLED for `Canceled`, each with the context's explanation as its details.
 */
export function statusOf(err: ContextError): { code: status; details: string } {
  return {
    code: err instanceof DeadlineExceeded ? status.DEADLINE_EXCEEDED : status.CANCELLED,
    details: err.message,
  };
}
