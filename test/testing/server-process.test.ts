// startServerProcess keeps a bounded tail of the output, and a server that fails to start
// rejects with that tail; LogTail itself.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { runningWithEnv } from "../../src/io/process/proc.js";
import { LogTail } from "../../src/testing/log-tail.js";
import { isProcessRunning } from "../../src/testing/proc-stat.js";
import { isTimeboundError } from "../../src/index.js";
import {
  ServerStartError,
  type ServerProcessOptions,
  startServerProcess,
} from "../../src/testing/index.js";

/** A node "server" that writes `bytes` of numbered lines, then `last`, then `after` runs. */
function chatty(bytes: number, last: string, after: string): string[] {
  return [
    "-e",
    `let n = 0, out = "";
     while (out.length < ${bytes}) out += "line " + n++ + " " + "x".repeat(60) + "\\n";
     process.stdout.write(out);
     process.stderr.write(${JSON.stringify(last)} + "\\n", () => { ${after} });`,
  ];
}

describe("startServerProcess", { timeout: 60_000 }, () => {
  it("keeps only the last logTailBytes of a chatty server's output", async () => {
    const server = await startServerProcess(
      process.execPath,
      chatty(1_000_000, "ready now", "setInterval(() => {}, 1000)"),
      /^ready now$/,
      { name: "chatty", logTailBytes: 4096 },
    );
    try {
      const output = server.output();
      assert.ok(Buffer.byteLength(output) <= 4096 + 40, `kept ${Buffer.byteLength(output)} bytes`);
      assert.match(output, /^\[\d+ earlier bytes not kept\]\nline \d+ x+\n/, "starts at a line");
      assert.match(output, /ready now\n$/, "ends with the latest line");
    } finally {
      await server.stop();
    }
    assert.ok(!isProcessRunning(server.pid), "stopped");
  });

  it("a server that exits before it is ready: ServerStartError with the end of its output", async () => {
    const start = startServerProcess(
      process.execPath,
      chatty(200_000, "fatal: bad configuration", "process.exit(3)"),
      /ready/,
      { name: "tester: chatty", logTailBytes: 2048 },
    );
    await assert.rejects(start, (err: unknown) => {
      assert.ok(err instanceof ServerStartError, `a ServerStartError: ${String(err)}`);
      assert.match(
        err.message,
        /^tester: chatty exited with code 3 before it was ready; its last output:\n\[\d+ earlier bytes not kept\]\n/,
      );
      assert.match(err.message, /fatal: bad configuration\n$/);
      assert.ok(err.message.length < 2048 + 200, `message of ${err.message.length} characters`);
      assert.match(err.log, /fatal: bad configuration\n$/);
      assert.equal(err.reason, "exited");
      assert.equal(err.name, "ServerStartError");
      assert.equal(err.code, "TIMEBOUND_ERR_SERVER_START");
      assert.ok(isTimeboundError(err), "isTimeboundError recognises it");
      return true;
    });
  });

  it("a server that is not ready in time is killed; the error says how long it waited", async () => {
    const mark = String(process.pid);
    const start = startServerProcess(
      process.execPath,
      ["-e", "console.log('starting'); setInterval(() => {}, 1000)"],
      /ready/,
      { name: "slow", timeoutMs: 1500, env: { ...process.env, TIMEBOUND_TEST_SLOW: mark } },
    );
    // "(none)" if node took longer than that to start on a loaded machine
    await assert.rejects(start, (err: unknown) => {
      assert.ok(err instanceof ServerStartError, `a ServerStartError: ${String(err)}`);
      assert.equal(err.reason, "timeout");
      assert.match(
        String(err),
        /^ServerStartError: slow did not print its ready line within 1500 ms; its last output:\n(starting\n|\(none\))$/,
      );
      return true;
    });
    const gone = async (): Promise<boolean> => {
      for (let i = 0; i < 200; i++) {
        if (runningWithEnv(`TIMEBOUND_TEST_SLOW=${mark}`).length === 0) return true;
        await delay(10);
      }
      return false;
    };
    assert.ok(await gone(), "the server was killed");
  });
});

describe("ServerStartError", () => {
  it("has its name and code on the prototype, and instanceof works across copies", () => {
    const err = new ServerStartError("x did not start", "spawn", "");
    assert.equal(err.name, "ServerStartError");
    assert.equal(err.code, "TIMEBOUND_ERR_SERVER_START");
    assert.ok(!Object.hasOwn(err, "name"), "name is not an own field");
    assert.match(String(err.stack), /^ServerStartError: x did not start/);
    // What another copy of timebound (the CJS build) makes: the same brand, another class.
    const other = Object.create(Object.getPrototypeOf(err) as object) as object;
    assert.ok(other instanceof ServerStartError, "a branded object is a ServerStartError");
    assert.ok(!(new Error("x") instanceof ServerStartError), "a plain Error is not");
  });
});

describe("startServerProcess: bad options", () => {
  it("rejects (never throws) with an error naming the option; spawn's own options pass", async () => {
    const cases: [ServerProcessOptions, RegExp][] = [
      [
        undefined as never,
        /^TypeError: startServerProcess: options must be an object, got undefined$/,
      ],
      [
        { name: "" },
        /^TypeError: startServerProcess: options\.name must be a non-empty string, got ""$/,
      ],
      [
        { name: "x", timeoutMs: -1 },
        /^RangeError: startServerProcess: options\.timeoutMs must be a number of milliseconds from 1 to 2,147,483,647, got -1$/,
      ],
      [
        { name: "x", logTailBytes: 1.5 },
        /^RangeError: startServerProcess: options\.logTailBytes must be an integer number of bytes/,
      ],
    ];
    for (const [options, expected] of cases) {
      const promise = startServerProcess(process.execPath, ["-e", ""], /ready/, options);
      await assert.rejects(promise, (err: Error) => {
        assert.match(String(err), expected);
        assert.equal((err as { code?: unknown }).code, "TIMEBOUND_ERR_INVALID_ARGUMENT");
        return true;
      });
    }
    // A key of spawn's (cwd) passes through: the process runs and prints its ready line.
    const server = await startServerProcess(
      process.execPath,
      ["-e", "console.log(process.cwd()); console.log('ready'); setInterval(() => {}, 1000)"],
      /ready/,
      { name: "cwd", cwd: "/" },
    );
    try {
      assert.match(server.output(), /^\/\n/);
    } finally {
      await server.stop();
    }
  });
});

describe("LogTail", () => {
  it("keeps everything under the limit", () => {
    const tail = new LogTail(100);
    tail.append(Buffer.from("a\n"));
    tail.append(Buffer.from("b\n"));
    assert.equal(tail.text(), "a\nb\n");
  });

  it("drops the oldest bytes, cuts at a line start and says how much it dropped", () => {
    const tail = new LogTail(10);
    tail.append(Buffer.from("first line\n"));
    tail.append(Buffer.from("second\nthird\n"));
    // kept "ond\nthird\n" (the last 10 of 24 bytes), shown from "third": 18 not shown
    assert.equal(tail.text(), "[18 earlier bytes not kept]\nthird\n");
  });

  it("never splits a multi-byte character at the cut: it cuts at a newline", () => {
    const tail = new LogTail(8);
    tail.append(Buffer.from("ééé\nàà\n")); // 7 + 5 bytes
    assert.equal(tail.text(), "[7 earlier bytes not kept]\nàà\n");
  });

  it("0 keeps nothing, and counts", () => {
    const tail = new LogTail(0);
    tail.append(Buffer.from("abc\n"));
    assert.equal(tail.text(), "[4 earlier bytes not kept]\n");
  });
});
