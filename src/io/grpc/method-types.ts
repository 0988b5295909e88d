import type { ClientDuplexStream, ClientReadableStream, ClientWritableStream } from "@grpc/grpc-js";

// Request and response types of a client's methods, read from the signatures that generated
// clients (proto-loader-gen-types, grpc-tools) declare. TypeScript matches an overloaded method by
// its last overload, which for generated clients is the shortest form, so these patterns follow
// it. A loosely typed client (grpc-js's `ServiceClient`, whose methods are `Function`) gives
// `unknown` for both: pass the request as it is and narrow the response yourself.

/** The last parameter of function type `M` (a callback). */
type LastParameter<M> = M extends (...args: infer A) => unknown
  ? A extends readonly [...unknown[], infer Last]
    ? Last
    : unknown
  : unknown;

/** The first parameter of function type `M`. */
type FirstParameter<M> = M extends (first: infer P, ...rest: infer _R) => unknown ? P : unknown;

/** What function type `M` returns: the call object of a streaming method. */
type CallOf<M> = M extends (...args: infer _A) => infer Call ? Call : unknown;

/**
 * The request type of a unary or server-streaming method: its first argument.
 *
 * @example
 * ```ts
 * type StockRequest = RequestOf<InventoryClient["getStock"]>;
 * ```
 */
export type RequestOf<M> = FirstParameter<M>;

/**
 * The response type of a unary or client-streaming method, read from its callback.
 *
 * @example
 * ```ts
 * type Stock = CallbackResponseOf<InventoryClient["getStock"]>;
 * ```
 */
export type CallbackResponseOf<M> =
  LastParameter<M> extends (err: infer _E, value?: infer Res) => void ? Res : unknown;

/**
 * The message type a server-streaming or bidi call reads.
 *
 * @example
 * ```ts
 * type Feature = StreamResponseOf<RouteGuideClient["listFeatures"]>;
 * ```
 */
export type StreamResponseOf<M> =
  CallOf<M> extends ClientDuplexStream<infer _Req, infer Res>
    ? Res
    : CallOf<M> extends ClientReadableStream<infer Res>
      ? Res
      : unknown;

/**
 * The message type a client-streaming or bidi call writes.
 *
 * @example
 * ```ts
 * type Point = StreamRequestOf<RouteGuideClient["recordRoute"]>;
 * ```
 */
export type StreamRequestOf<M> =
  CallOf<M> extends ClientDuplexStream<infer Req, infer _Res>
    ? Req
    : CallOf<M> extends ClientWritableStream<infer Req>
      ? Req
      : unknown;
