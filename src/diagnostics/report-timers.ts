// The live-timer view and "what keeps the process alive" as text, in the goroutine dump's
// style: one group a stack, `N @ what`, then `#\tfunction\tfile:line:col` lines.
import { formatAge, hashFrames, plural } from "./format.js";
import type { LiveTimerGroup, Snapshot } from "./model.js";
import { formatFrame } from "./stacks.js";

const NO_STACK = "no stack: armed before tracking started";

function what(g: LiveTimerGroup, refs = true): string {
  const delay =
    g.kind === "setInterval"
      ? ` every ${formatAge(g.delayMs)}`
      : g.kind === "setTimeout"
        ? ` in ${formatAge(g.delayMs)}`
        : "";
  const parts = [
    `${g.loop === true ? `${g.kind} loop` : g.kind}${delay}`,
    g.contextName === undefined ? "" : `in "${g.contextName}"`,
    g.armedBy === undefined ? "" : `armed by timebound ${g.armedBy} (a deadline or a wait)`,
    !refs
      ? ""
      : g.keepAlive === 0
        ? "unref'd"
        : g.keepAlive === g.count
          ? "keeps the process alive"
          : `${g.keepAlive} keep the process alive`,
  ];
  return parts.filter((p) => p !== "").join(", ");
}

function groupText(g: LiveTimerGroup): string {
  return `\n${g.count} @ ${what(g)}, oldest ${formatAge(g.oldestAgeMs)}\n${hashFrames(g.stack, NO_STACK)}`;
}

function samplingNote(sampleEvery: number): string {
  return sampleEvery === 1
    ? "every timer recorded"
    : `setTimeout: 1 in ${sampleEvery} recorded, TIMEBOUND_TIMER_SAMPLE_EVERY=1 records all; setInterval: all`;
}

/** @internal The live timers grouped by creation stack; at most `maxGroups` groups. */
export function timersSection(s: Snapshot, maxGroups: number): string {
  const view = s.timers;
  if (view === undefined) return ""; // timers not watched, or a report from before the view
  const total = view.groups.reduce((n, g) => n + g.count, 0);
  let out = `\nlive timers: ${plural(total, "recorded timer")} still armed (${samplingNote(view.sampleEvery)})\n`;
  for (const g of view.groups.slice(0, maxGroups)) out += groupText(g);
  const left = Math.max(0, view.groups.length - maxGroups) + view.omitted;
  if (left > 0) out += `\n… and ${plural(left, "more stack")}\n`;
  return out;
}

/**
 * @internal What keeps the event loop running (at exit: what kept it running): resources by type,
 * the servers, sockets and child processes behind them, and the timers that hold it, by stack.
 */
export function keptAliveSection(s: Snapshot, maxGroups: number): string {
  const alive = s.keptAlive;
  if (alive === undefined) return "";
  const title = alive.atExit
    ? "what kept the process alive at exit"
    : "what keeps the process alive";
  const types = Object.entries(alive.resources).sort(
    (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1),
  );
  if (types.length === 0) return `\n${title}: nothing (the event loop is empty)\n`;
  let out = `\n${title}: ${types.map(([type, n]) => `${n} ${type}`).join(", ")}\n`;
  for (const h of alive.handles.slice(0, maxGroups)) {
    out += `    ${h.count === 1 ? "" : `${h.count} × `}${h.description}\n`;
  }
  // One line a group, at its innermost frame: the live timers section has the whole stacks.
  const holding = (s.timers?.groups ?? []).filter((g) => g.keepAlive > 0);
  for (const g of holding.slice(0, maxGroups)) {
    const top = g.stack[0];
    out += `    ${g.keepAlive} × ${what(g, false)}${top === undefined ? "" : ` at ${formatFrame(top)}`}\n`;
  }
  const known = holding.reduce((n, g) => n + (g.kind === "setImmediate" ? 0 : g.keepAlive), 0);
  const unknown = (alive.resources.Timeout ?? 0) - known;
  if (unknown > 0 && s.timers !== undefined) {
    out += `    ${unknown} × Timeout with no recorded stack (${samplingNote(s.timers.sampleEvery)})\n`;
  }
  return out;
}

const isStdio = (description: string): boolean => /^std(in|out|err) /.test(description);

/**
 * @internal One line for `timebound diagnose`'s summary: what kept the program alive when it was
 * made to exit (a signal, `process.exit()`), leaving out its own stdio; undefined when nothing
 * else did, or the report is not an exit report.
 *
 * @example
 * ```ts
 * keptAliveLine(tracking.snapshot()); // "1 TCPServerWrap, 2 Timeout: Server listening on …"
 * ```
 */
export function keptAliveLine(s: Snapshot): string | undefined {
  const alive = s.keptAlive;
  if (alive === undefined || !alive.atExit) return undefined;
  const stdio = alive.handles.filter((h) => isStdio(h.description)).length;
  const total = Object.values(alive.resources).reduce((a, b) => a + b, 0);
  if (total - stdio <= 0) return undefined;
  const types = Object.entries(alive.resources)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([type, n]) => `${n} ${type}`)
    .join(", ");
  const parts = [
    ...alive.handles.filter((h) => !isStdio(h.description)).map((h) => h.description),
    ...(s.timers?.groups ?? [])
      .filter((g) => g.keepAlive > 0)
      .map((g) => {
        const top = g.stack[0];
        return `${what(g, false)}${top === undefined ? "" : ` at ${formatFrame(top)}`}`;
      }),
  ];
  return `${types}${parts.length === 0 ? "" : `: ${parts.slice(0, 5).join("; ")}`}`;
}
