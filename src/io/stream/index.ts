/**
 * timebound/stream: Node streams bound to a context.
 *
 * @example
 * ```ts
 * import { withTimeout } from "timebound";
 * import { pipeline } from "timebound/stream";
 *
 * using ctx = withTimeout(parent, 5000);
 * await pipeline(ctx, createReadStream("app.log"), createGzip(), createWriteStream("app.log.gz"));
 * ```
 * @module timebound/stream
 */
export { pipeline, type PipelineFunction, type PipelineStage } from "./pipeline.js";
