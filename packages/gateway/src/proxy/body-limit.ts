// A request body without a Content-Length (chunked) is counted as it streams upstream: past the
// route's limit the stream fails, the upstream request is aborted, and the client gets a 413.
import type { IncomingMessage } from "node:http";
import { Transform, type TransformCallback } from "node:stream";

/** The error a body over its limit fails with. */
export class BodyTooLargeError extends Error {
  readonly code = "BODY_TOO_LARGE";
  constructor(readonly limit: number) {
    super(`the request body is over the route's limit of ${limit} bytes`);
  }
}

/** `req`, counted: a stream that fails with {@link BodyTooLargeError} past `limit` bytes. */
export function limitedBody(req: IncomingMessage, limit: number): Transform {
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) callback(new BodyTooLargeError(limit));
      else callback(null, chunk);
    },
  });
  req.on("error", (err) => counted.destroy(err));
  return req.pipe(counted);
}
