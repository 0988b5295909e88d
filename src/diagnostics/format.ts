import type { Frame } from "./model.js";

/** @internal "850 ms", "12.3 s", "4.2 min", "1.5 h": a duration as people read it. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "forever";
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** @internal `"name"` for a named context, else the label (`withCancel`). */
export function contextLabel(name: string | undefined, kind?: string): string {
  if (name !== undefined) return `"${name}"`;
  return kind ?? "unnamed";
}

/** @internal "1 context", "3 contexts". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? word : many}`;
}

/** @internal Rounds to one decimal: numbers in reports are for people. */
export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** @internal Go's debug=1 frame lines: `#\tfunction\tfile:line:col`; `noStack` says why there are none. */
export function hashFrames(frames: readonly Frame[], noStack: string): string {
  if (frames.length === 0) return `#\t(${noStack})\n`;
  return frames
    .map(
      (f) =>
        `#\t${f.functionName || "(anonymous)"}\t${f.file === "" ? "?" : `${f.file}:${f.line}:${f.column}`}\n`,
    )
    .join("");
}
