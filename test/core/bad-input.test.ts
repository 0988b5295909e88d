import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  DeadlineExceeded,
  afterFunc,
  background,
  cause,
  createKey,
  explain,
  fromSignal,
  now,
  run,
  setTracking,
  withCancel,
  withCancelCause,
  withDeadline,
  withDeadlineCause,
  withTimeout,
  withTimeoutCause,
  withValue,
  withoutCancel,
  type Context,
} from "../../src/index.js";

type ErrorClass = new (...args: never[]) => Error;

/** Asserts `fn` throws an instance of `cls` whose message names `fnName` and each of `parts`. */
function throwsClearly(
  fn: () => unknown,
  cls: ErrorClass,
  fnName: string,
  ...parts: string[]
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${fnName}:`), `should name ${fnName}: ${err.message}`);
    for (const part of parts) {
      assert.ok(err.message.includes(part), `should mention ${part}: ${err.message}`);
    }
    return true;
  });
}

const key = createKey<number>("n");
const noop = (): void => {};

/** Every entry point that takes a parent/ctx, called with `p` in that position. */
const takesParent: Array<[string, (p: Context) => unknown]> = [
  ["withCancel", (p) => withCancel(p)],
  ["withCancelCause", (p) => withCancelCause(p)],
  ["withTimeout", (p) => withTimeout(p, 100)],
  ["withTimeoutCause", (p) => withTimeoutCause(p, 100, "c")],
  ["withDeadline", (p) => withDeadline(p, now() + 100)],
  ["withDeadlineCause", (p) => withDeadlineCause(p, now() + 100, "c")],
  ["withValue", (p) => withValue(p, key, 1)],
  ["withoutCancel", (p) => withoutCancel(p)],
  ["afterFunc", (p) => afterFunc(p, noop)],
  ["run", (p) => run(p, noop)],
  ["cause", (p) => cause(p)],
  ["fromSignal", (p) => fromSignal(new AbortController().signal, { parent: p })],
];

const badParents: Array<[string, unknown, string]> = [
  ["{}", {}, "{}"],
  ["null", null, "null"],
  ["undefined", undefined, "undefined"],
  ["an AbortSignal", new AbortController().signal, "AbortSignal"],
  ["a number", 42, "42"],
  ["a string", "ctx", '"ctx"'],
];

describe("bad parents", () => {
  for (const [fnName, call] of takesParent) {
    for (const [label, value, shown] of badParents) {
      // fromSignal treats a missing parent (undefined) as background().
      if (fnName === "fromSignal" && value === undefined) continue;
      it(`${fnName} with ${label} as parent: TypeError naming ${fnName} and the value`, () => {
        throwsClearly(() => call(value as Context), TypeError, fnName, shown);
      });
    }
  }

  it("a partial lookalike of a context is told what it lacks to be adopted", () => {
    const lookalike = { signal: new AbortController().signal, deadline: undefined, err: undefined };
    throwsClearly(
      () => withCancel(lookalike as unknown as Context),
      TypeError,
      "withCancel",
      "it looks like a context but has no value(), remaining(), throwIfDone()",
    );
  });

  it("explain() of a non-context: TypeError naming explain", () => {
    throwsClearly(() => explain({} as Context), TypeError, "explain", "{}");
    throwsClearly(() => explain(null as unknown as Context), TypeError, "explain", "got null");
    throwsClearly(
      () => explain(undefined as unknown as Context),
      TypeError,
      "explain",
      "undefined",
    );
  });
});

describe("bad timeouts and deadlines", () => {
  const timed: Array<[string, (t: number | Date) => unknown]> = [
    ["withTimeout", (t) => withTimeout(background(), t as number)],
    ["withTimeoutCause", (t) => withTimeoutCause(background(), t as number, "c")],
    ["withDeadline", (t) => withDeadline(background(), t)],
    ["withDeadlineCause", (t) => withDeadlineCause(background(), t, "c")],
  ];
  for (const [fnName, call] of timed) {
    it(`${fnName}(NaN): RangeError naming ${fnName} and NaN`, () => {
      throwsClearly(() => call(NaN), RangeError, fnName, "NaN");
    });

    it(`${fnName}(10n): TypeError saying it is a BigInt`, () => {
      throwsClearly(() => call(10n as unknown as number), TypeError, fnName, "the BigInt 10n");
    });

    for (const [label, value, shown] of [
      ['"500"', "500", '"500"'],
      ["undefined", undefined, "undefined"],
      ["null", null, "null"],
      ["{}", {}, "{}"],
    ] as const) {
      it(`${fnName}(${label}): TypeError naming ${fnName} and the value`, () => {
        throwsClearly(() => call(value as unknown as number), TypeError, fnName, shown);
      });
    }
  }

  for (const fnName of ["withDeadline", "withDeadlineCause"] as const) {
    it(`${fnName}(Date.now() + 100): RangeError saying it is a wall-clock time and what to pass`, () => {
      const call =
        fnName === "withDeadline"
          ? () => withDeadline(background(), Date.now() + 100)
          : () => withDeadlineCause(background(), Date.now() + 100, "c");
      throwsClearly(call, RangeError, fnName, "looks like a wall-clock time", "now() + ms", "Date");
    });
  }

  for (const fnName of ["withDeadline", "withDeadlineCause"] as const) {
    it(`${fnName}(invalid Date): RangeError naming ${fnName} and the invalid Date`, () => {
      const bad = new Date("not a date");
      const call =
        fnName === "withDeadline"
          ? () => withDeadline(background(), bad)
          : () => withDeadlineCause(background(), bad, "c");
      throwsClearly(call, RangeError, fnName, "invalid Date");
    });
  }

  for (const t of [-1, -Infinity]) {
    it(`a timeout of ${t} is not an error: the context is already expired`, () => {
      assert.ok(withTimeout(background(), t).err instanceof DeadlineExceeded);
      assert.ok(withTimeoutCause(background(), t, "c").err instanceof DeadlineExceeded);
      assert.ok(withDeadline(background(), t).err instanceof DeadlineExceeded);
    });
  }
});

describe("bad options", () => {
  const named: Array<[string, (o: unknown) => unknown]> = [
    ["withCancel", (o) => withCancel(background(), o as never)],
    ["withCancelCause", (o) => withCancelCause(background(), o as never)],
    ["withTimeout", (o) => withTimeout(background(), 100, o as never)],
    ["withTimeoutCause", (o) => withTimeoutCause(background(), 100, "c", o as never)],
    ["withDeadline", (o) => withDeadline(background(), now() + 100, o as never)],
    ["withDeadlineCause", (o) => withDeadlineCause(background(), now() + 100, "c", o as never)],
    ["withoutCancel", (o) => withoutCancel(background(), o as never)],
    ["fromSignal", (o) => fromSignal(new AbortController().signal, o as never)],
  ];
  for (const [fnName, call] of named) {
    it(`${fnName} with a non-string name: TypeError naming ${fnName} and the value`, () => {
      throwsClearly(() => call({ name: 42 }), TypeError, fnName, "name", "42");
      throwsClearly(() => call({ name: { first: "x" } }), TypeError, fnName, "name");
    });

    it(`${fnName} with non-object options: TypeError naming ${fnName}`, () => {
      throwsClearly(() => call("fast"), TypeError, fnName, "options", '"fast"');
    });
  }
});

describe("other bad arguments", () => {
  for (const [label, value, shown] of [
    ["a number", 42, "42"],
    ["a string", "cleanup", '"cleanup"'],
    ["undefined", undefined, "undefined"],
    ["a Promise", Promise.resolve(), "Promise"],
  ] as const) {
    it(`afterFunc with ${label} as fn: TypeError naming afterFunc and the value`, () => {
      throwsClearly(
        () => afterFunc(background(), value as unknown as () => void),
        TypeError,
        "afterFunc",
        shown,
      );
    });
  }

  for (const [label, value, shown] of [
    ["a string", "user", '"user"'],
    ["a lookalike", { name: "user" }, '{"name":"user"}'],
    ["undefined", undefined, "undefined"],
  ] as const) {
    it(`withValue with ${label} as key: TypeError naming withValue and the value`, () => {
      throwsClearly(
        () => withValue(background(), value as unknown as typeof key, 1),
        TypeError,
        "withValue",
        shown,
      );
    });
  }

  for (const [label, value, shown] of [
    ["{}", {}, "{}"],
    ["an AbortController", new AbortController(), "AbortController"],
    ["null", null, "null"],
    ["a context", background(), "Context"],
  ] as const) {
    it(`fromSignal with ${label}: TypeError naming fromSignal and the value`, () => {
      throwsClearly(
        () => fromSignal(value as unknown as AbortSignal),
        TypeError,
        "fromSignal",
        shown,
      );
    });
  }

  it("createKey with a non-string name: TypeError naming createKey", () => {
    throwsClearly(() => createKey(42 as unknown as string), TypeError, "createKey", "42");
  });

  it("setTracking with a non-boolean: TypeError naming setTracking", () => {
    throwsClearly(() => setTracking("yes" as unknown as boolean), TypeError, "setTracking");
  });
});

describe("documented non-errors", () => {
  it("reusing a canceled context as a parent gives a born-ended child (no throw)", () => {
    const parent = withCancel(background());
    parent.cancel("done");
    const child = withTimeout(parent, 1_000);
    assert.ok(child.err instanceof Canceled);
    assert.equal(cause(child), "done");
  });
});
