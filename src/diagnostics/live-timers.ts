import { now } from "../core/index.js";
import type { LiveTimerGroup, LiveTimers } from "./model.js";
import { isOwnFrame, stackKey } from "./stacks.js";
import type { TimerLoop, TimerRecord } from "./timers.js";

/** Node's Timeout and Immediate say whether they hold the event loop open. */
function keepsAlive(timer: object | undefined): boolean {
  const hasRef = (timer as { hasRef?: unknown } | undefined)?.hasRef;
  return typeof hasRef === "function" ? (hasRef.call(timer) as boolean) : true;
}

interface MutableGroup {
  kind: string;
  delayMs: number;
  count: number;
  keepAlive: number;
  contextName: string | undefined;
  loop: boolean;
  armedBy: string | undefined;
  oldestAgeMs: number;
  stack: LiveTimerGroup["stack"];
}

/**
 * @internal The live-timer view: sampled timers still armed and the running timer loops, grouped
 * by creation stack, kind, delay and context; those that keep the process alive first, then the
 * largest groups. At most `maxGroups`; the rest are counted.
 */
export function liveTimers(
  armed: readonly TimerRecord[],
  loops: readonly TimerLoop[],
  sampleEvery: number,
  maxGroups: number,
): LiveTimers {
  const t = now();
  const groups = new Map<string, MutableGroup>();
  const add = (
    kind: string,
    delayMs: number,
    contextName: string | undefined,
    loop: boolean,
    parsed: {
      frames: LiveTimerGroup["stack"];
      internal: boolean;
      calledLayer?: string | undefined;
    },
    createdAt: number,
    timer: object | undefined,
  ): void => {
    const armedBy = parsed.internal ? (parsed.calledLayer ?? "core") : undefined;
    const key = `${kind}\0${delayMs}\0${contextName ?? ""}\0${loop}\0${armedBy ?? ""}\0${stackKey(parsed.frames)}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        kind,
        delayMs,
        count: 0,
        keepAlive: 0,
        contextName,
        loop,
        armedBy,
        oldestAgeMs: 0,
        stack: parsed.frames,
      };
      groups.set(key, g);
    }
    g.count++;
    if (keepsAlive(timer)) g.keepAlive++;
    g.oldestAgeMs = Math.max(g.oldestAgeMs, Math.round(t - createdAt));
  };
  const loopTimers = new Set<object>();
  for (const loop of loops) {
    const timer = loop.last.deref();
    if (timer === undefined) continue;
    loopTimers.add(timer);
    // The tracking wrapper around the callback sits between the re-arm and its caller.
    const frames = loop.stack.frames.filter((f) => !isOwnFrame(f));
    add(
      loop.kind,
      loop.delayMs,
      loop.contextName,
      true,
      { frames, internal: false },
      loop.firstAt,
      timer,
    );
  }
  for (const r of armed) {
    const timer = r.timer.deref();
    if (timer === undefined || loopTimers.has(timer)) continue;
    add(r.kind, r.delayMs, r.contextName, false, r.stack.parsed, r.createdAt, timer);
  }
  const sorted = [...groups.values()].sort(
    (a, b) =>
      Number(b.keepAlive > 0) - Number(a.keepAlive > 0) ||
      Number(b.loop) - Number(a.loop) ||
      b.count - a.count ||
      b.oldestAgeMs - a.oldestAgeMs,
  );
  const kept = sorted.slice(0, maxGroups).map((g): LiveTimerGroup => ({
    kind: g.kind,
    delayMs: g.delayMs,
    count: g.count,
    keepAlive: g.keepAlive,
    ...(g.contextName === undefined ? {} : { contextName: g.contextName }),
    ...(g.loop ? { loop: true } : {}),
    ...(g.armedBy === undefined ? {} : { armedBy: g.armedBy }),
    oldestAgeMs: g.oldestAgeMs,
    stack: g.stack,
  }));
  return { sampleEvery, groups: kept, omitted: sorted.length - kept.length };
}
