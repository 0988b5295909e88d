import { performance } from "node:perf_hooks";
import type { Progress } from "../lab/scenario.js";
import type { OutputStream } from "./io.js";

/** @internal A {@link Progress} that can also clear what it drew. */
export interface ProgressLine extends Progress {
  /** Clears the line on a terminal, so the report starts on a clean one. */
  done(): void;
}

/** Redraws at most this often: a tight loop of ticks should not flood the terminal. */
const TICK_INTERVAL_MS = 50;

/**
 * @internal Progress on `stream` (stderr, so stdout stays clean for the report or JSON). On a
 * terminal, one line redrawn in place with `\r`; otherwise one plain line per step, and no ticks,
 * so logs and CI output stay short.
 */
export function progressLine(stream: OutputStream): ProgressLine {
  const tty = stream.isTTY === true;
  let shown = false;
  let lastDraw = -Infinity;
  const draw = (text: string): void => {
    // Longer than the terminal is wide, the line would wrap and `\r` would not reach its start.
    // A pseudo-terminal may report 0 columns: then assume the classic 80.
    const columns = stream.columns !== undefined && stream.columns >= 20 ? stream.columns : 80;
    const width = columns - 1;
    stream.write(`\r${text.slice(0, width)}\x1b[K`);
    shown = true;
    lastDraw = performance.now();
  };
  return {
    step(text) {
      if (tty) draw(text);
      else stream.write(`${text}\n`);
    },
    tick(text) {
      if (tty && performance.now() - lastDraw >= TICK_INTERVAL_MS) draw(text);
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
