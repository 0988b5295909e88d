import { describeValue, invalidType } from "../../core/internal.js";

/**
 * The four kinds of gRPC method, named as grpc-js names them on a server.
 *
 * @internal
 */
export type MethodKind = "unary" | "clientStream" | "serverStream" | "bidi";

/** Which timebound/grpc helper calls each kind. */
const HELPER: Readonly<Record<MethodKind, string>> = {
  unary: "unary",
  clientStream: "clientStream",
  serverStream: "serverStream",
  bidi: "bidiStream",
};

/**
 * A client method, called with the client as `this`.
 *
 * @internal
 */
export type ClientMethod = (this: object, ...args: unknown[]) => unknown;

/**
 * Looks up `client[method]`, checking that it is a gRPC method of the expected kind: grpc-js
 * marks each method of a client it makes with `requestStream` / `responseStream`. Throws a
 * TypeError naming `fn`, the bad value and, for a method of another kind, the helper to use.
 *
 * @internal
 */
export function clientMethod(
  client: unknown,
  method: unknown,
  kind: MethodKind,
  fn: string,
): ClientMethod {
  if (typeof client !== "object" || client === null) {
    throw invalidType(`${fn}: client must be a grpc-js client, got ${describeValue(client)}`);
  }
  if (typeof method !== "string") {
    throw invalidType(
      `${fn}: method must be the name of one of the client's methods, got ${describeValue(method)}`,
    );
  }
  const found: unknown = (client as Record<string, unknown>)[method];
  if (typeof found !== "function") {
    throw invalidType(
      `${fn}: the client has no method ${JSON.stringify(method)} (got ${describeValue(found)})`,
    );
  }
  const actual = kindOf(found as { requestStream?: unknown; responseStream?: unknown });
  if (actual === undefined) {
    throw invalidType(
      `${fn}: ${JSON.stringify(method)} is not a gRPC method of the client (the methods of a ` +
        "client made by grpc-js carry requestStream and responseStream)",
    );
  }
  if (actual !== kind) {
    throw invalidType(
      `${fn}: ${JSON.stringify(method)} is a ${actual} method, not ${kind}; call it with ` +
        `${HELPER[actual]}()`,
    );
  }
  return found as ClientMethod;
}

function kindOf(m: { requestStream?: unknown; responseStream?: unknown }): MethodKind | undefined {
  if (typeof m.requestStream !== "boolean" || typeof m.responseStream !== "boolean") {
    return undefined;
  }
  if (m.requestStream) return m.responseStream ? "bidi" : "clientStream";
  return m.responseStream ? "serverStream" : "unary";
}
