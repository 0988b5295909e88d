import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, withCancel } from "../../../src/index.js";
import { dependents } from "../../../src/core/context.js";
import { exec, execFile, spawn } from "../../../src/io/process/index.js";

/** Calls that must throw at once, naming the function and the bad value, and start nothing. */
const cases: [string, () => unknown, RegExp][] = [
  [
    "spawn: no context",
    () => spawn({} as never, "true"),
    /^spawn: ctx must be a timebound Context/,
  ],
  [
    "exec: no context",
    () => exec(undefined as never, "true"),
    /^exec: ctx must be a timebound Context/,
  ],
  [
    "spawn: empty command",
    () => spawn(background(), ""),
    /^spawn: command must be a non-empty string, got ""/,
  ],
  [
    "exec: command not a string",
    () => exec(background(), 42 as never),
    /^exec: command must be a non-empty string, got 42/,
  ],
  [
    "execFile: no file",
    () => execFile(background(), undefined as never),
    /^execFile: file must be a non-empty string, got undefined/,
  ],
  [
    "spawn: args not an array",
    () => spawn(background(), "ls", { cwd: "/" } as never),
    /^spawn: args must be an array of strings, got \{"cwd":"\/"\}/,
  ],
  [
    "execFile: args with a number",
    () => execFile(background(), "ls", ["-l", 1] as never),
    /^execFile: args must be an array of strings, got Array \["-l",1\]/,
  ],
  [
    "spawn: options not an object",
    () => spawn(background(), "ls", [], "inherit" as never),
    /^spawn: options must be an object, got "inherit"/,
  ],
  [
    "spawn: signal",
    () => spawn(background(), "ls", [], { signal: AbortSignal.timeout(10) } as never),
    /^spawn: options\.signal is not used: the context stops the process \(adopt an AbortSignal with fromSignal\(signal\)\)/,
  ],
  [
    "exec: timeout",
    () => exec(background(), "ls", { timeout: 100 } as never),
    /^exec: options\.timeout is not used: give the context a deadline instead \(withTimeout\(ctx, ms\)\)/,
  ],
  [
    "execFile: detached",
    () => execFile(background(), "ls", [], { detached: false } as never),
    /^execFile: options\.detached is set by timebound/,
  ],
  [
    "spawn: negative grace",
    () => spawn(background(), "ls", [], { graceMs: -1 }),
    /^spawn: options\.graceMs must be a number of milliseconds from 0 to 2147483647, got -1/,
  ],
  [
    "exec: NaN grace",
    () => exec(background(), "ls", { graceMs: NaN }),
    /^exec: options\.graceMs .* got NaN/,
  ],
  [
    "exec: Infinity grace",
    () => exec(background(), "ls", { graceMs: Infinity }),
    /^exec: options\.graceMs .* got Infinity/,
  ],
  [
    "spawn: unknown signal",
    () => spawn(background(), "ls", [], { killSignal: "SIGNOPE" as never }),
    /^spawn: options\.killSignal must be a signal name such as "SIGTERM" or "SIGINT", or its number, got "SIGNOPE"/,
  ],
  [
    "exec: buffer encoding",
    () => exec(background(), "ls", { encoding: "buffer" as never }),
    /^exec: options\.encoding must be a text encoding .* got "buffer" \(for bytes, use spawn\(\) and read child\.stdout\)/,
  ],
  [
    "exec: zero maxBuffer",
    () => exec(background(), "ls", { maxBuffer: 0 }),
    /^exec: options\.maxBuffer must be a positive number of bytes or Infinity, got 0/,
  ],
  [
    "execFile: input a number",
    () => execFile(background(), "cat", [], { input: 5 as never }),
    /^execFile: options\.input must be a string or a Uint8Array, got 5/,
  ],
  [
    "exec: shell false",
    () => exec(background(), "ls", { shell: false as never }),
    /^exec: options\.shell must be a non-empty string, got false/,
  ],
];

describe("process: bad input", { timeout: 20_000 }, () => {
  for (const [name, call, message] of cases) {
    it(`${name} throws a clear error at once`, () => {
      assert.throws(call, (err: Error) => {
        assert.ok(err instanceof TypeError || err instanceof RangeError, `${err.name}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it("bad options link nothing to the context", () => {
    const ctx = withCancel(background());
    assert.throws(() => spawn(ctx, "ls", [], { graceMs: -5 }));
    assert.throws(() => exec(ctx, "ls", { maxBuffer: -1 }));
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("accepts a signal number and Infinity for maxBuffer", async () => {
    const r = await exec(background(), "echo ok", { killSignal: 15, maxBuffer: Infinity });
    assert.equal(r.stdout, "ok\n");
  });
});
