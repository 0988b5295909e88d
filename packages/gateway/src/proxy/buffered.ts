// Writes an answer held whole in memory: a stale-cache entry or a static fallback, marked so the
// client (and a log) can tell it from a fresh upstream answer.
import type { ServerResponse } from "node:http";
import type { BufferedAnswer } from "../upstream/answers.js";

/** Writes `answer` to `res`, with `x-request-id` and, when it is not fresh, `x-timebound-served`. */
export function writeBuffered(
  res: ServerResponse,
  answer: BufferedAnswer,
  requestId: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | string[] | number> = { ...answer.headers };
  headers["content-length"] = answer.body.length;
  headers["x-request-id"] = requestId;
  if (answer.servedAs !== undefined) headers["x-timebound-served"] = answer.servedAs;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
