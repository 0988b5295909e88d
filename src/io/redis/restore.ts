// What a command that takes data (a pop, a move, a group read) took, read from its reply, and the
// one command that puts it back. Used when the reply comes after the caller was released: the
// server has done the work, and nobody will ever see the reply.
import type { RedisArgument } from "./driver.js";
import { prefixKey } from "./slot.js";

/**
 * A command to run on the client to undo a late pop; `isKept(reply)` reads its answer.
 *
 * @internal
 */
export interface RestoreCommand {
  readonly name: string;
  /** Keys already carry the client's key prefix: send it without one. */
  readonly args: readonly RedisArgument[];
  /** Whether its reply says there was nothing left to move back: the outcome is then "kept". */
  readonly isKept?: (reply: unknown) => boolean;
}

/**
 * What can be done about what a late reply took:
 * - a command that puts it back;
 * - `kept`: it stays in Redis where the command left it (XREADGROUP's pending entries list);
 * - `taken`: it cannot be put back (XREADGROUP with NOACK: the group has moved past it);
 * - `none`: nothing was taken (an empty reply, or a command that takes nothing).
 *
 * @internal
 */
export type Restore = RestoreCommand | "kept" | "taken" | "none";

type Planner = (args: readonly RedisArgument[], reply: unknown, prefix: string) => Restore;

type End = "LEFT" | "RIGHT";
const PUSH: Readonly<Record<End, string>> = { LEFT: "lpush", RIGHT: "rpush" };

/**
 * Moves one element back from the end of the destination it was put at to the end of the source
 * it was taken from, unless it has left the destination already (someone took it from there).
 * KEYS: destination, source. ARGV: element, end of destination, end of source.
 */
const MOVE_BACK = `local removed = redis.call('LREM', KEYS[1], ARGV[2] == 'LEFT' and 1 or -1, ARGV[1])
if removed == 0 then return 0 end
redis.call(ARGV[3] == 'LEFT' and 'LPUSH' or 'RPUSH', KEYS[2], ARGV[1])
return 1`;

/** LPOP/RPOP key [count]: element, or [elements] with a count. */
const popOf =
  (end: End): Planner =>
  (args, reply, prefix) =>
    pushBack(prefixed(args[0], prefix), elementsOf(reply), end);
/** (B)LMOVE source destination from to: the element. */
const lmove: Planner = (args, reply, prefix) =>
  moveBack(args, endOf(args[2]), endOf(args[3]), reply, prefix);
/** (B)RPOPLPUSH source destination: the element, from the right to the left. */
const rpoplpush: Planner = (args, reply, prefix) => moveBack(args, "RIGHT", "LEFT", reply, prefix);
/**
 * ZPOPMIN/ZPOPMAX key [count]: [member, score, member, score...]; with a count over RESP3,
 * [[member, score]...] (scores as numbers unless the client maps doubles otherwise).
 */
const zpop: Planner = (args, reply, prefix) =>
  zaddBack(prefixed(args[0], prefix), flatPairs(reply));

const PLANNERS: ReadonlyMap<string, Planner> = new Map<string, Planner>([
  // [key, element], the key as the server names it (prefix included)
  ["blpop", (_, reply) => pushBackKeyed(reply, "LEFT")],
  ["brpop", (_, reply) => pushBackKeyed(reply, "RIGHT")],
  ["lpop", popOf("LEFT")],
  ["rpop", popOf("RIGHT")],
  // [key, [elements]]
  ["lmpop", (args, reply) => pushBackMulti(args, 0, reply)],
  ["blmpop", (args, reply) => pushBackMulti(args, 1, reply)],
  ["lmove", lmove],
  ["blmove", lmove],
  ["rpoplpush", rpoplpush],
  ["brpoplpush", rpoplpush],
  ["zpopmin", zpop],
  ["zpopmax", zpop],
  // [key, member, score]
  ["bzpopmin", (_, reply) => zaddBackKeyed(reply)],
  ["bzpopmax", (_, reply) => zaddBackKeyed(reply)],
  // [key, [[member, score]...]]
  ["zmpop", (_, reply) => zaddBackMulti(reply)],
  ["bzmpop", (_, reply) => zaddBackMulti(reply)],
  // member, or [members] with a count
  ["spop", (args, reply, prefix) => saddBack(prefixed(args[0], prefix), elementsOf(reply))],
  ["xreadgroup", (args, reply) => (reply === null ? "none" : hasNoAck(args) ? "taken" : "kept")],
]);

/**
 * Whether a late reply of `name` may have taken data: such commands are run with Buffer replies,
 * so that what is put back is byte for byte what was taken.
 *
 * @internal
 */
export function takesData(name: string): boolean {
  return PLANNERS.has(name) || PLANNERS.has(name.toLowerCase());
}

/**
 * What `name args...` took, from its (Buffer) `reply`, and how to put it back. `prefix` is the
 * client's key prefix, which keys taken from `args` lack and keys taken from the reply carry.
 *
 * @internal
 */
export function restoreFor(
  name: string,
  args: readonly RedisArgument[],
  reply: unknown,
  prefix: string,
): Restore {
  const planner = PLANNERS.get(name.toLowerCase());
  if (planner === undefined || reply === null) return "none";
  return planner(args, reply, prefix);
}

function pushBackKeyed(reply: unknown, end: End): Restore {
  if (!Array.isArray(reply) || reply.length !== 2) return "none";
  return pushBack(reply[0] as RedisArgument, [reply[1] as RedisArgument], end);
}

/** `numkeys` is at `index` (0 for LMPOP, 1 for BLMPOP); the end follows the keys. */
function pushBackMulti(args: readonly RedisArgument[], index: number, reply: unknown): Restore {
  if (!Array.isArray(reply) || reply.length !== 2) return "none";
  const end = endOf(args[index + 1 + Number(args[index])]);
  return pushBack(reply[0] as RedisArgument, elementsOf(reply[1]), end);
}

/**
 * Pushes `elements` (in the order they were popped) back onto the end they came from, so that
 * the first one popped is the next one to pop: reversed, since each push goes before the last.
 */
function pushBack(key: RedisArgument, elements: readonly RedisArgument[], end: End): Restore {
  if (elements.length === 0) return "none";
  return { name: PUSH[end], args: [key, ...[...elements].reverse()] };
}

function moveBack(
  args: readonly RedisArgument[],
  from: End,
  to: End,
  reply: unknown,
  prefix: string,
): Restore {
  if (!isArgument(reply)) return "none";
  const [source, destination] = [prefixed(args[0], prefix), prefixed(args[1], prefix)];
  return {
    name: "eval",
    args: [MOVE_BACK, 2, destination, source, reply, to, from],
    isKept: (moved) => Number(moved) === 0,
  };
}

/** Back with the score it had; NX: a member added again meanwhile keeps its newer score. */
function zaddBack(key: RedisArgument, pairs: readonly (readonly [unknown, unknown])[]): Restore {
  if (pairs.length === 0) return "none";
  const args: RedisArgument[] = [key, "NX"];
  for (const [member, score] of pairs) args.push(score as RedisArgument, member as RedisArgument);
  return { name: "zadd", args };
}

function zaddBackKeyed(reply: unknown): Restore {
  if (!Array.isArray(reply) || reply.length !== 3) return "none";
  return zaddBack(reply[0] as RedisArgument, [[reply[1], reply[2]]]);
}

function zaddBackMulti(reply: unknown): Restore {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) return "none";
  const pairs = (reply[1] as unknown[]).filter(
    (p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2,
  );
  return zaddBack(reply[0] as RedisArgument, pairs);
}

function saddBack(key: RedisArgument, members: readonly RedisArgument[]): Restore {
  return members.length === 0 ? "none" : { name: "sadd", args: [key, ...members] };
}

function elementsOf(reply: unknown): RedisArgument[] {
  if (isArgument(reply)) return [reply];
  return Array.isArray(reply) ? reply.filter(isArgument) : [];
}

function flatPairs(reply: unknown): [unknown, unknown][] {
  if (!Array.isArray(reply)) return [];
  if (reply.every((p) => Array.isArray(p) && p.length === 2)) return reply as [unknown, unknown][];
  const pairs: [unknown, unknown][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
  return pairs;
}

function isArgument(value: unknown): value is RedisArgument {
  return typeof value === "string" || Buffer.isBuffer(value);
}

function endOf(arg: RedisArgument | undefined): End {
  return String(arg).toUpperCase() === "RIGHT" ? "RIGHT" : "LEFT";
}

/** XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS ...: options before the keys. */
function hasNoAck(args: readonly RedisArgument[]): boolean {
  for (let i = 0; i < args.length;) {
    const token = String(args[i]).toUpperCase();
    if (token === "NOACK") return true;
    if (token === "GROUP") i += 3;
    else if (token === "COUNT" || token === "BLOCK") i += 2;
    else return false; // STREAMS: keys follow, and a key may be called "noack"
  }
  return false;
}

/** A key from the command's arguments, as the server knows it. */
function prefixed(key: RedisArgument | undefined, prefix: string): RedisArgument {
  return prefixKey(prefix, key ?? "");
}
