import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_DEADLINE_HEADER,
  encodeTimeout,
  parseTimeout,
} from "../../../src/io/http/index.js";
import { setDispatchHeader } from "../../../src/io/http/dispatch-headers.js";

describe("deadline header: encodeTimeout", () => {
  it("writes whole milliseconds, rounding down, in at most 8 digits", () => {
    assert.equal(encodeTimeout(250), "250m");
    assert.equal(encodeTimeout(250.9), "250m");
    assert.equal(encodeTimeout(99_999_999), "99999999m");
    assert.equal(encodeTimeout(100_000_000), "100000S");
    assert.equal(encodeTimeout(2 ** 31), "2147483S");
    assert.equal(encodeTimeout(1e12), "16666666M");
    assert.equal(encodeTimeout(1e14), "27777777H");
    assert.equal(encodeTimeout(1e20), "99999999H");
    assert.equal(encodeTimeout(Infinity), "99999999H");
  });

  it("writes microseconds below 1 ms and 0m for no time at all", () => {
    assert.equal(encodeTimeout(0.7), "700u");
    assert.equal(encodeTimeout(0), "0m");
    assert.equal(encodeTimeout(-5), "0m");
    assert.throws(() => encodeTimeout(Number.NaN), /encodeTimeout: ms must be a number/);
  });

  it("round-trips within the unit's precision", () => {
    for (const ms of [0.5, 1, 42, 1_000, 59_999, 3_600_000, 1e9, 1e12]) {
      const back = parseTimeout(encodeTimeout(ms))!;
      assert.ok(back <= ms && back > ms * 0.99 - 0.001, `${ms} -> ${encodeTimeout(ms)} -> ${back}`);
    }
  });
});

describe("deadline header: parseTimeout", () => {
  it("reads every unit", () => {
    assert.equal(parseTimeout("2H"), 7_200_000);
    assert.equal(parseTimeout("3M"), 180_000);
    assert.equal(parseTimeout("4S"), 4_000);
    assert.equal(parseTimeout("250m"), 250);
    assert.equal(parseTimeout("1500u"), 1.5);
    assert.equal(parseTimeout("2000000n"), 2);
    assert.equal(parseTimeout(" 250m "), 250, "surrounding space is trimmed");
    assert.equal(parseTimeout("00000010m"), 10, "8 digits with leading zeros");
  });

  it("ignores what is malformed: signs, fractions, 9 digits, unknown or missing units", () => {
    for (const bad of [
      "",
      "m",
      "250",
      "-5m",
      "+5m",
      "1.5S",
      "123456789m",
      "250ms",
      "250 m",
      "250x",
      "0x10m",
      "1e3m",
      "250M250m",
      "Infinitym",
    ]) {
      assert.equal(parseTimeout(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(parseTimeout(undefined), undefined);
  });

  it("takes the shortest of a list, and rejects a list with a bad item", () => {
    assert.equal(parseTimeout("1S, 90m"), 90);
    assert.equal(parseTimeout(["2S", "1500m"]), 1_500);
    assert.equal(parseTimeout("1S, nope"), undefined);
    assert.equal(parseTimeout(["1S", "-1m"]), undefined);
    assert.equal(parseTimeout([]), undefined);
  });

  it("reads huge values as they are; clamping is the server's job", () => {
    assert.equal(parseTimeout("99999999H"), 99_999_999 * 3_600_000);
  });

  it("defaults to a header name of its own", () => {
    assert.equal(DEFAULT_DEADLINE_HEADER, "timebound-timeout");
  });
});

describe("deadline header: undici dispatch headers", () => {
  it("adds the header to every form undici accepts, replacing any case of the name", () => {
    assert.deepEqual(setDispatchHeader(undefined, "t", "1m"), { t: "1m" });
    assert.deepEqual(setDispatchHeader(null, "t", "1m"), { t: "1m" });
    assert.deepEqual(setDispatchHeader({ a: "1", T: "9m" }, "t", "1m"), { a: "1", t: "1m" });
    assert.deepEqual(setDispatchHeader(["a", "1", "T", "9m"], "t", "1m"), ["a", "1", "t", "1m"]);
    const pairs = new Map<string, string>([
      ["a", "1"],
      ["t", "9m"],
    ]);
    assert.deepEqual(setDispatchHeader(pairs, "t", "1m"), { a: "1", t: "1m" });
  });

  it("never changes the caller's headers", () => {
    const given = { a: "1" };
    setDispatchHeader(given, "t", "1m");
    assert.deepEqual(given, { a: "1" });
    const flat = ["a", "1"];
    setDispatchHeader(flat, "t", "1m");
    assert.deepEqual(flat, ["a", "1"]);
  });
});
