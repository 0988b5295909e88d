import { INVALID_ARGUMENT } from "../../../src/core/internal.js";
import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, withCancel } from "../../../src/index.js";
import { exec, execFile, spawn } from "../../../src/io/process/index.js";

/**
 * Calls that must fail with an error naming the function and the bad value, and start nothing:
 * spawn (which returns a handle) throws at once; exec and execFile (which return a promise) reject.
 */
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
    "execFile: no context",
    () => execFile(null as never, "true"),
    /^execFile: ctx must be a timebound Context/,
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
    /^spawn: options\.graceMs must be a number of milliseconds from 0 to 2,147,483,647, got -1/,
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
    "spawn: unknown tree",
    () => spawn(background(), "ls", [], { tree: "all" as never }),
    /^spawn: options\.tree must be one of "group", "descendants", got "all"/,
  ],
  [
    "execFile: tree not a string",
    () => execFile(background(), "ls", [], { tree: true as never }),
    /^execFile: options\.tree must be one of "group", "descendants", got true/,
  ],
  [
    "spawn: graceMs null (not a default: a wrong value)",
    () => spawn(background(), "ls", [], { graceMs: null as never }),
    /^spawn: options\.graceMs must be a number of milliseconds .*, got null/,
  ],
  [
    "exec: maxBuffer null",
    () => exec(background(), "ls", { maxBuffer: null as never }),
    /^exec: options\.maxBuffer must be a positive number of bytes or Infinity, got null/,
  ],
  [
    "execFile: shell null",
    () => execFile(background(), "ls", [], { shell: null as never }),
    /^execFile: options\.shell must be a non-empty string, got null/,
  ],
  [
    "exec: shell false",
    () => exec(background(), "ls", { shell: false as never }),
    /^exec: options\.shell must be a non-empty string, got false/,
  ],
];

describe("process: bad input", { timeout: 20_000 }, () => {
  const clear = (message: RegExp) => (err: Error) => {
    assert.ok(err instanceof TypeError || err instanceof RangeError, `${err.name}`);
    assert.match(err.message, message);
    assert.equal((err as { code?: unknown }).code, INVALID_ARGUMENT, "a stable code");
    return true;
  };
  for (const [name, call, message] of cases) {
    if (name.startsWith("spawn:")) {
      it(`${name} throws a clear error at once`, () => {
        assert.throws(call, clear(message));
      });
    } else {
      it(`${name} rejects with a clear error, never throws`, async () => {
        let result: unknown;
        assert.doesNotThrow(() => (result = call()), "a promise-returning function rejects");
        assert.ok(result instanceof Promise, `returned ${String(result)}`);
        await assert.rejects(result, clear(message));
      });
    }
  }

  it("bad options link nothing to the context", async () => {
    const ctx = withCancel(background());
    assert.throws(() => spawn(ctx, "ls", [], { graceMs: -5 }));
    await assert.rejects(exec(ctx, "ls", { maxBuffer: -1 }), RangeError);
    await assert.rejects(execFile(ctx, "ls", [], { tree: "none" as never }), TypeError);
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("an option Node's spawn refuses (cwd: 42): spawn throws it at once", () => {
    assert.throws(() => spawn(background(), "ls", [], { cwd: 42 as never }), {
      code: "ERR_INVALID_ARG_TYPE",
      message: /options\.cwd/,
    });
  });

  it("an option Node's spawn refuses (cwd: 42): execFile rejects with it", async () => {
    let result: unknown;
    assert.doesNotThrow(() => (result = execFile(background(), "ls", [], { cwd: 42 as never })));
    await assert.rejects(result as Promise<unknown>, {
      code: "ERR_INVALID_ARG_TYPE",
      message: /options\.cwd/,
    });
  });

  it("a bad argument is a rejection a .catch handles", async () => {
    const seen = await exec(undefined as never, "true").catch((err: unknown) => err);
    assert.ok(seen instanceof TypeError, `got ${String(seen)}`);
    assert.match(seen.message, /^exec: ctx must be a timebound Context/);
  });

  it("keys it does not own pass through to Node's spawn (its options extend Node's)", async () => {
    const r = await exec(background(), "echo ok", { windowsHide: true, notAnOption: 1 } as never);
    assert.equal(r.stdout, "ok\n");
    const p = spawn(background(), "true", [], { notAnOption: 1 } as never);
    assert.deepEqual(await p.exited, { code: 0, signal: null });
  });

  it("accepts a signal number and Infinity for maxBuffer", async () => {
    const r = await exec(background(), "echo ok", { killSignal: 15, maxBuffer: Infinity });
    assert.equal(r.stdout, "ok\n");
  });
});
