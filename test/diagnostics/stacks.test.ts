import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { madeByProgram, parseFrame, parseStack } from "../../src/diagnostics/stacks.js";

const OWN = fileURLToPath(new URL("../../src/core/derive.ts", import.meta.url));

describe("V8 stack parsing", () => {
  it("reads the frame shapes V8 prints", () => {
    assert.deepEqual(parseFrame("    at worker (/app/src/worker.js:12:5)"), {
      functionName: "worker",
      file: "/app/src/worker.js",
      line: 12,
      column: 5,
    });
    assert.deepEqual(parseFrame("    at file:///app/main.mjs:3:1"), {
      functionName: "",
      file: "/app/main.mjs",
      line: 3,
      column: 1,
    });
    assert.equal(parseFrame("    at async Promise.all (index 0)")?.functionName, "Promise.all");
    assert.equal(parseFrame("    at new Pool (/app/pool.js:1:2)")?.functionName, "new Pool");
    assert.equal(
      parseFrame("    at Object.run [as handler] (/app/x.js:1:2)")?.functionName,
      "Object.run",
    );
    assert.deepEqual(parseFrame("    at Array.map (<anonymous>)"), {
      functionName: "Array.map",
      file: "",
      line: 0,
      column: 0,
    });
    assert.equal(
      parseFrame("    at eval (eval at <anonymous> (/app/e.js:1:1), <anonymous>:1:1)")
        ?.functionName,
      "eval",
    );
    assert.equal(parseFrame("Error: boom"), undefined);
  });

  it("drops timebound's own leading frames and Node's internals, keeps the caller's", () => {
    const text = [
      "Error",
      `    at withCancel (${OWN}:40:10)`,
      "    at new Promise (<anonymous>)",
      `    at raceContext (${OWN}:50:3)`,
      "    at startWorker (/app/worker.js:7:15)",
      "    at Array.map (<anonymous>)",
      "    at main (/app/main.js:3:1)",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    ].join("\n");
    const parsed = parseStack(text);
    assert.deepEqual(
      parsed.frames.map((f) => f.functionName),
      ["startWorker", "Array.map", "main"],
    );
    assert.equal(parsed.internal, true);
    assert.equal(madeByProgram(parsed), false, "timebound made it");
    const program = parseStack("Error\n    at poll (/app/poll.js:1:1)");
    assert.equal(madeByProgram(program), true);
    assert.equal(
      madeByProgram(parseStack("Error\n    at listOnTimeout (node:internal/timers:1:1)")),
      false,
    );
  });
});
