// An operation's stack starts at the program's line, however many of timebound's own frames lie
// between the announcement and the program (they are dropped by file, not counted).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Channel, background, select, sleep, withCancel } from "../../src/index.js";
import { track } from "../../src/diagnostics/track.js";

const THIS_FILE = fileURLToPath(import.meta.url);

/** The line of the caller of this function. */
function lineHere(): number {
  const frame = new Error().stack?.split("\n")[2] ?? "";
  return Number(/:(\d+):\d+\)?$/.exec(frame)?.[1]);
}

describe("where an operation was started", () => {
  const tracking = track({ dumpSignal: false, timers: false, fetch: false, waitSampleEvery: 1 });
  after(() => tracking.stop());

  function firstFrameOf(contextName: string): { file: string; line: number } | undefined {
    const op = tracking.snapshot().operations.find((o) => o.contextName === contextName);
    return op?.stack[0];
  }

  for (const limit of [10, 2]) {
    it(`names the program's line, with Error.stackTraceLimit = ${limit}`, async () => {
      const saved = Error.stackTraceLimit;
      const ctx = withCancel(background(), { name: `waits-${limit}` });
      const waits: Promise<unknown>[] = [];
      const lines: number[] = [];
      Error.stackTraceLimit = limit;
      try {
        // prettier-ignore
        { lines.push(lineHere()); waits.push(sleep(ctx, 60_000).catch(() => {})); }
        // prettier-ignore
        { lines.push(lineHere()); waits.push(new Channel<number>().recv(ctx).catch(() => {})); }
        // prettier-ignore
        { lines.push(lineHere()); waits.push(select(ctx, [{ recv: new Channel<number>() }]).catch(() => {})); }
      } finally {
        Error.stackTraceLimit = saved;
      }
      const ops = tracking.snapshot().operations.filter((o) => o.contextName === `waits-${limit}`);
      assert.equal(ops.length, 3, "three waits listed");
      for (const [i, op] of ops.entries()) {
        const top = op.stack[0];
        assert.ok(top !== undefined, `${op.kind}: a stack was recorded`);
        assert.equal(top.file, THIS_FILE, `${op.kind}: the first frame is the program's`);
        assert.equal(top.line, lines[i], `${op.kind}: on the line that started it`);
        assert.ok(op.stack.length <= limit, `${op.kind}: at most ${limit} frames kept`);
      }
      ctx.cancel();
      await Promise.all(waits);
      assert.equal(firstFrameOf(`waits-${limit}`), undefined, "gone once ended");
    });
  }
});
