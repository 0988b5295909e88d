import type { KeptAlive } from "./model.js";
import { handleCounts } from "./sampler.js";

/** The parts of Node's handle owners (net.Server, net.Socket, ChildProcess) a description reads. */
interface HandleOwner {
  readonly constructor?: { readonly name?: string };
  readonly _handle?: { hasRef?: () => boolean } | null;
  readonly address?: () => unknown;
  readonly listening?: boolean;
  readonly fd?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly pid?: number;
  readonly spawnfile?: string;
}

const STDIO = ["stdin", "stdout", "stderr"];

function endpoint(address: unknown): string {
  if (typeof address === "string") return address; // a pipe's path
  const a = address as { address?: string; port?: number } | null;
  return a?.address === undefined ? "?" : `${a.address}:${a.port ?? "?"}`;
}

/** One line for a server, socket or child process: what it is and where it points. */
function describe(h: HandleOwner): string {
  const type = h.constructor?.name ?? "handle";
  if (typeof h.pid === "number") return `${type} pid ${h.pid} (${h.spawnfile ?? "?"})`;
  if (typeof h.fd === "number" && h.fd >= 0 && h.fd <= 2) return `${STDIO[h.fd]} (${type})`;
  if (h.listening === true && typeof h.address === "function") {
    return `${type} listening on ${endpoint(h.address())}`;
  }
  if (h.remoteAddress !== undefined) {
    return `${type} ${h.localAddress ?? "?"}:${h.localPort ?? "?"} -> ${h.remoteAddress}:${h.remotePort ?? "?"}`;
  }
  return type;
}

/**
 * @internal What keeps the event loop running now: resources by type
 * (`process.getActiveResourcesInfo()`), and the servers, sockets and child processes behind
 * them, described and counted (`process._getActiveHandles()`, where Node still has it; unref'd
 * ones are left out, as they hold nothing open).
 */
export function keptAliveNow(atExit: boolean, maxHandles = 100): KeptAlive {
  const counts = new Map<string, number>();
  const list = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  let owners: unknown[];
  try {
    owners = typeof list === "function" ? list.call(process) : [];
  } catch {
    owners = []; // an internal API: its absence or failure only costs the descriptions
  }
  for (const owner of owners) {
    if (typeof owner !== "object" || owner === null) continue;
    const h = owner as HandleOwner;
    if (h._handle?.hasRef?.() === false) continue;
    const text = describe(h);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  const handles = [...counts]
    .map(([description, count]) => ({ description, count }))
    .sort((a, b) => b.count - a.count || (a.description < b.description ? -1 : 1))
    .slice(0, maxHandles);
  return { atExit, resources: handleCounts(), handles };
}
