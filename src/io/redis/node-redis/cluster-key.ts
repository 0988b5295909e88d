// The key a node-redis cluster routes a command by. node-redis 5's cluster sendCommand takes it
// from the caller; timebound/redis knows where the common commands put their first key, and for
// the rest routes by the first argument: a wrong guess costs a MOVED, which node-redis follows.
import { blockingCommand, firstKey } from "../blocking-commands.js";
import type { RedisArgument } from "../driver.js";

/** Commands that act on no key: routed to any node. */
const KEYLESS = new Set([
  "ping", "echo", "info", "time", "dbsize", "lastsave", "role", "randomkey", "scan", "client",
  "config", "cluster", "command", "script", "function", "publish", "pubsub", "wait", "waitaof",
  "flushall", "flushdb", "memory", "latency", "slowlog", "acl", "hello", "auth", "select",
]); // prettier-ignore

/** Commands whose first argument is `numkeys`, the keys following it. */
const NUMKEYS_FIRST = new Set([
  "lmpop",
  "zmpop",
  "sintercard",
  "zintercard",
  "zunion",
  "zinter",
  "zdiff",
]);

/** Commands whose second argument is `numkeys` (a script or function comes first). */
const NUMKEYS_SECOND = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]);

/** Commands whose key comes after a subcommand or an operation. */
const KEY_SECOND = new Set(["bitop", "object", "xinfo", "xgroup"]);

/**
 * The key `name args...` is routed by in a cluster; undefined for a command without one.
 *
 * @internal
 */
export function clusterKey(
  name: string,
  args: readonly RedisArgument[],
): RedisArgument | undefined {
  const lower = name.toLowerCase();
  if (KEYLESS.has(lower)) return undefined;
  if (NUMKEYS_FIRST.has(lower)) return Number(args[0]) > 0 ? args[1] : undefined;
  if (NUMKEYS_SECOND.has(lower)) return Number(args[1]) > 0 ? args[2] : undefined;
  if (KEY_SECOND.has(lower)) return args[1];
  if (lower === "xread" || lower === "xreadgroup") {
    const streams = args.findIndex((a) => String(a).toUpperCase() === "STREAMS");
    return streams === -1 ? undefined : args[streams + 1];
  }
  const blocking = blockingCommand(lower, args, "clusterKey");
  if (blocking !== undefined) return firstKey(blocking, args);
  return args[0];
}
