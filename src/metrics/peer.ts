// prom-client and @opentelemetry/api are optional peer dependencies: timebound/metrics loads
// them when a collector starts, never at import, and says which package to install when one is
// missing.
import { createRequire } from "node:module";
import { defineErrorClass, moduleFile } from "../core/internal.js";

/**
 * A function of `timebound/metrics` needs an optional peer dependency that is not installed
 * (or cannot be loaded from timebound's folder). The message names the package and the command
 * that installs it; `cause` is the loader's error.
 *
 * @example
 * ```ts
 * try {
 *   collectTimeboundMetrics();
 * } catch (err) {
 *   if (err instanceof MissingPeerDependencyError) console.warn(`metrics off: ${err.message}`);
 *   else throw err;
 * }
 * ```
 */
export class MissingPeerDependencyError extends Error {
  /** `"TIMEBOUND_ERR_MISSING_PEER_DEPENDENCY"`. */
  declare readonly code: "TIMEBOUND_ERR_MISSING_PEER_DEPENDENCY";
  /** The package to install ("prom-client", "@opentelemetry/api"). */
  readonly packageName: string;

  constructor(fn: string, packageName: string, cause: unknown) {
    super(
      `${fn} needs the optional peer dependency "${packageName}", which could not be loaded: ` +
        `install it next to timebound (npm install ${packageName}), or pass the module as options.client`,
      { cause },
    );
    this.packageName = packageName;
  }
}

defineErrorClass(MissingPeerDependencyError, "MissingPeerDependencyError", {
  kind: "timebound.MissingPeerDependencyError",
  code: "TIMEBOUND_ERR_MISSING_PEER_DEPENDENCY",
});

/**
 * @internal Loads `packageName` for `fn` with `load` (default: a `require` resolving from
 * timebound's own folder, in both builds); a failure becomes a {@link MissingPeerDependencyError}.
 */
export function loadPeer<T>(
  fn: string,
  packageName: string,
  load: (name: string) => unknown = defaultLoad,
): T {
  try {
    return load(packageName) as T;
  } catch (err) {
    throw new MissingPeerDependencyError(fn, packageName, err);
  }
}

function defaultLoad(name: string): unknown {
  const file = moduleFile();
  if (file === undefined) throw new Error("timebound's own file could not be read to resolve from");
  return createRequire(file)(name);
}
