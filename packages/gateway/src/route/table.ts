// Routes matched by method, path (find-my-way: parameters, wildcards, static prefixes) and host.
import FindMyWay from "find-my-way";
import type { HTTPMethod } from "find-my-way";
import type { RouteConfig } from "../config/types.js";

const ALL_METHODS: readonly HTTPMethod[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

/** What a request without a host to match on is found by (one object, not one per request). */
const NO_CONSTRAINTS = Object.freeze({});

/** A route's match: the route and its path parameters. */
export interface RouteMatch<R> {
  readonly route: R;
  readonly params: Readonly<Record<string, string | undefined>>;
}

/** A routing table over routes of type `R` (the gateway's compiled routes). */
export class RouteTable<R extends { readonly config: RouteConfig }> {
  #router = FindMyWay({ ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 500 });
  /** Whether any route matches on the host (when none does, the request's is not read). */
  readonly matchesHost: boolean;

  constructor(routes: readonly R[]) {
    this.matchesHost = routes.some((r) => r.config.host !== undefined);
    for (const route of routes) {
      const { path, host } = route.config;
      const methods = (route.config.methods ?? ALL_METHODS) as HTTPMethod[];
      const opts = host === undefined ? {} : { constraints: { host } };
      this.#router.on(methods, path, opts, () => undefined, route);
    }
  }

  /** The route for a request, or undefined. `host` is the Host header without its port. */
  find(method: string, path: string, host: string | undefined): RouteMatch<R> | undefined {
    const found = this.#router.find(
      method as HTTPMethod,
      path,
      host === undefined ? NO_CONSTRAINTS : { host },
    );
    if (found === null) return undefined;
    return { route: found.store as R, params: found.params };
  }
}
