/**
 * The route a request's work runs for, as a pprof label (`route`), like Go's `pprof.Do` labels
 * that a goroutine's children inherit. The HTTP server adapters announce each request context
 * (`timebound:http:request`); every context made under it carries the same route.
 */

/** What the frameworks put on their request once it is routed. */
interface Routed {
  /** Fastify 5: the route's options, `url` its pattern (`/users/:id`). */
  readonly routeOptions?: { readonly url?: unknown };
  /** Express: the matched route, `path` its pattern, under the router mounted at `baseUrl`. */
  readonly route?: { readonly path?: unknown };
  readonly baseUrl?: unknown;
}

/**
 * The route pattern the framework matched for `request` (Fastify's `routeOptions.url`,
 * Express's `baseUrl` + `route.path`), or undefined before routing, for a request no route
 * matched, and on plain node:http.
 *
 * @example
 * ```ts
 * routePattern({ routeOptions: { url: "/users/:id" } }); // "/users/:id"
 * ```
 */
export function routePattern(request: object): string | undefined {
  const r = request as Routed;
  const fastify = r.routeOptions?.url;
  if (typeof fastify === "string" && fastify !== "") return fastify;
  const express = r.route?.path;
  if (typeof express === "string") {
    const base = typeof r.baseUrl === "string" ? r.baseUrl : "";
    return `${base}${express}` || "/";
  }
  return undefined;
}

/** A path segment that names one thing rather than a kind: a number, a UUID, a hash, a token. */
const ID_SEGMENT =
  /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[^/]*\d)[0-9a-f]{8,}|(?=[^/]*\d)[\w.~%-]{16,})$/i;
/** Paths are cut to this many characters: a label is for grouping, not for the whole URL. */
const MAX_PATH = 100;

/**
 * A concrete path with its ids folded to `:id` (all-digit segments, UUIDs, hex strings of 8 or
 * more, and segments of 16 or more characters with a digit), so that a label set stays as small
 * as the set of routes: `/users/42/orders/9f86d081` becomes `/users/:id/orders/:id`.
 *
 * @example
 * ```ts
 * normalizePath("/users/42"); // "/users/:id"
 * ```
 */
export function normalizePath(path: string): string {
  const folded = path
    .split("/")
    .map((segment) => (ID_SEGMENT.test(segment) ? ":id" : segment))
    .join("/");
  return folded.length > MAX_PATH ? `${folded.slice(0, MAX_PATH - 3)}...` : folded;
}

/**
 * @internal One request's route, shared by the records of every context made under it. The
 * pattern is read from the framework's request while it may still appear (Express routes after
 * the middleware ran): when a context is made under it, when a snapshot labels it, and a last
 * time when the request's context ends, after which the request is no longer held.
 */
export class RequestRoute {
  #request: WeakRef<object> | undefined;
  #pattern: string | undefined = undefined;
  #label: string | undefined = undefined;

  constructor(
    /** The id of the request context's record. */
    readonly requestId: number,
    readonly method: string,
    readonly path: string,
    request: object,
  ) {
    this.#request = new WeakRef(request);
    this.resolve();
  }

  /** Reads the pattern if it is not known yet; `final` lets go of the request. */
  resolve(final = false): void {
    if (this.#pattern === undefined && this.#request !== undefined) {
      const request = this.#request.deref();
      this.#pattern = request === undefined ? undefined : routePattern(request);
      if (this.#pattern !== undefined) this.#label = undefined;
    }
    if (final || this.#pattern !== undefined) this.#request = undefined;
  }

  /** `GET /users/:id`: the method and the pattern, or the normalized path without one. */
  label(): string {
    this.resolve();
    return (this.#label ??= `${this.method} ${this.#pattern ?? normalizePath(this.path)}`);
  }
}
