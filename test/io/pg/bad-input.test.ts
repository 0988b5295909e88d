import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { INVALID_ARGUMENT, UNKNOWN_OPTION } from "../../../src/core/internal.js";
import { background } from "../../../src/index.js";
import { query, transaction } from "../../../src/io/pg/index.js";
import { pgUrl } from "../../services.js";

// Nothing here should reach the server: bad input is refused before any I/O. Both functions
// return promises, so bad input rejects them (as Node's promise APIs do), never throws.
let pool: pg.Pool;
before(() => {
  pool = new pg.Pool({ connectionString: pgUrl(), max: 1 });
});
after(async () => {
  assert.equal(pool.totalCount, 0, "no connection was opened for bad input");
  await pool.end();
});

type Loose = (...args: unknown[]) => Promise<unknown>;
const looseQuery = query as unknown as Loose;
const looseTransaction = transaction as unknown as Loose;
const noop = (): Promise<void> => Promise.resolve();

/** Calls `call`, which must not throw, and checks that the promise it returns rejects so. */
async function rejects(
  call: () => Promise<unknown>,
  expected: assert.AssertPredicate,
): Promise<void> {
  let returned: unknown;
  try {
    returned = call();
  } catch (err) {
    assert.fail(`threw synchronously instead of rejecting: ${String(err)}`);
  }
  assert.ok(returned instanceof Promise, "returns a promise");
  await assert.rejects(returned, expected);
}

describe("bad input to timebound/pg", () => {
  it("query: names the argument that is wrong and what it got", async () => {
    const bg = background();
    await rejects(() => looseQuery(undefined, pool, "SELECT 1"), {
      name: "TypeError",
      message: /^query: ctx must be a timebound Context, got undefined/,
    });
    await rejects(() => looseQuery({ signal: null, deadline: 1 }, pool, "SELECT 1"), {
      message:
        /^query: ctx must be a timebound Context.*it looks like a context but has no value\(\)/,
    });
    await rejects(() => looseQuery(bg, { query: 1 }, "SELECT 1"), {
      name: "TypeError",
      message: /^query: db must be a pg Pool, Client or PoolClient, got an object$/,
    });
    await rejects(() => looseQuery(bg, "postgres://x", "SELECT 1"), {
      message: /^query: db must be a pg Pool, Client or PoolClient, got "postgres:\/\/x"/,
    });
    await rejects(() => looseQuery(bg, pool, 42), {
      name: "TypeError",
      message: /^query: text must be a SQL string or a QueryConfig with a string text, got 42/,
    });
    await rejects(() => looseQuery(bg, pool, { text: "SELECT 1", rowMode: "array" }), {
      message: /^query: rowMode and callback are not supported/,
    });
    await rejects(() => looseQuery(bg, pool, "SELECT $1", "x"), {
      name: "TypeError",
      message: /^query: values must be an array, got "x"/,
    });
    await rejects(() => looseQuery(bg, pool, { text: "SELECT $1", values: 1 }), {
      message: /^query: config.values must be an array, got 1/,
    });
  });

  it("query: refuses clients it cannot cancel safely", async () => {
    const piped = new pg.Client({ connectionString: pgUrl(), pipeline: true });
    await rejects(() => looseQuery(background(), piped, "SELECT 1"), {
      name: "TypeError",
      message: /^query: the client runs in pipeline mode/,
    });
    const nativeLike = { query: () => Promise.resolve(), connection: undefined };
    await rejects(() => looseQuery(background(), nativeLike, "SELECT 1"), {
      message: /^query: the client has no protocol connection \(is it pg-native\?\)/,
    });
  });

  it("options: NaN, out of range, wrong type and unknown keys are refused with the option's name", async () => {
    const bad: [unknown, RegExp][] = [
      [
        { cancelTimeoutMs: Number.NaN },
        /^query: options.cancelTimeoutMs must be a number of milliseconds from 1 to 60,000, got NaN$/,
      ],
      [{ cancelTimeoutMs: 0 }, /options.cancelTimeoutMs .* got 0$/],
      [{ cancelTimeoutMs: Infinity }, /options.cancelTimeoutMs .* got Infinity$/],
      [{ cancelTimeoutMs: "100" }, /options.cancelTimeoutMs .* got "100"$/],
      [
        { statementTimeoutSlackMs: -1 },
        /options.statementTimeoutSlackMs must be a number of milliseconds from 0 to 60,000, got -1$/,
      ],
      [
        { statementTimeout: "yes" },
        /^query: options.statementTimeout must be true or false, got "yes"$/,
      ],
      [
        { cancelTimeout: 5 },
        /^query: unknown option options.cancelTimeout \(known: cancelTimeoutMs, statementTimeout, statementTimeoutSlackMs\)$/,
      ],
      ["fast", /^query: options must be an object, got "fast"$/],
    ];
    for (const [options, message] of bad) {
      const code = /unknown option/.test(message.source) ? UNKNOWN_OPTION : INVALID_ARGUMENT;
      await rejects(() => looseQuery(background(), pool, "SELECT 1", [], options), {
        message,
        code,
      });
    }
  });

  it("options: null is not a default but a wrong value, as in every timebound options object", async () => {
    for (const key of ["cancelTimeoutMs", "statementTimeout", "statementTimeoutSlackMs"]) {
      await rejects(() => looseQuery(background(), pool, "SELECT 1", [], { [key]: null }), {
        name: "TypeError",
        code: INVALID_ARGUMENT,
        message: new RegExp(`^query: options\\.${key} must be .*, got null$`),
      });
    }
    await rejects(() => looseTransaction(background(), pool, noop, { readOnly: null }), {
      code: INVALID_ARGUMENT,
      message: /^transaction: options.readOnly must be true or false, got null$/,
    });
  });

  it("every refusal of an argument carries TIMEBOUND_ERR_INVALID_ARGUMENT", async () => {
    const bg = background();
    const piped = new pg.Client({ connectionString: pgUrl(), pipeline: true });
    const calls: (() => Promise<unknown>)[] = [
      () => looseQuery(bg, { query: 1 }, "SELECT 1"),
      () => looseQuery(bg, piped, "SELECT 1"),
      () => looseQuery(bg, { query: () => {}, connection: undefined }, "SELECT 1"),
      () => looseQuery(bg, pool, 42),
      () => looseQuery(bg, pool, "SELECT $1", "x"),
      () => looseQuery(bg, pool, { text: "SELECT $1", values: 1 }),
      () => looseQuery(bg, pool, { text: "SELECT 1", rowMode: "array" }),
      () => looseQuery(bg, pool, "SELECT 1", [], "fast"),
      () => looseTransaction(bg, new pg.Client({ connectionString: pgUrl() }), noop),
      () => looseTransaction(bg, pool, "BEGIN"),
      () => looseTransaction(bg, pool, noop, { readOnly: 1 }),
    ];
    for (const call of calls) {
      await rejects(call, (err: Error & { code?: unknown }) => {
        assert.ok(err instanceof TypeError || err instanceof RangeError, `${err.name}`);
        assert.equal(err.code, INVALID_ARGUMENT, err.message);
        return true;
      });
    }
  });

  it("transaction: names the argument that is wrong and what it got", async () => {
    const bg = background();
    await rejects(() => looseTransaction(null, pool, noop), {
      message: /^transaction: ctx must be a timebound Context, got null/,
    });
    const client = new pg.Client({ connectionString: pgUrl() });
    await rejects(() => looseTransaction(bg, client, noop), {
      name: "TypeError",
      message: /^transaction: pool must be a pg Pool, got a Client$/,
    });
    const secret = new pg.Client({ connectionString: "postgres://u:hunter2@127.0.0.1:1/db" });
    await rejects(
      () => looseTransaction(bg, secret, noop),
      (err: Error) => {
        assert.doesNotMatch(err.message, /hunter2/, "no connection settings in messages");
        return true;
      },
    );
    await rejects(() => looseTransaction(bg, pool, "BEGIN"), {
      message: /^transaction: fn must be a function, got "BEGIN"/,
    });
    await rejects(() => looseTransaction(bg, pool, noop, { isolationLevel: "chaos" }), {
      name: "TypeError",
      code: INVALID_ARGUMENT,
      message:
        /^transaction: options.isolationLevel must be one of "read committed", "repeatable read", "serializable", got "chaos"/,
    });
    await rejects(() => looseTransaction(bg, pool, noop, { readOnly: 1 }), {
      message: /^transaction: options.readOnly must be true or false, got 1/,
    });
    await rejects(() => looseTransaction(bg, pool, noop, { cancelTimeoutMs: Number.NaN }), {
      message: /^transaction: options.cancelTimeoutMs .* got NaN/,
    });
    await rejects(() => looseTransaction(bg, pool, noop, { isolation: "serializable" }), {
      name: "TypeError",
      code: UNKNOWN_OPTION,
      message:
        /^transaction: unknown option options.isolation \(known: .*isolationLevel, readOnly\)/,
    });
  });
});
