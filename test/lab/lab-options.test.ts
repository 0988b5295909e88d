import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseLabArgs } from "../../src/cli/lab.js";
import { DEFAULT_LAB_OPTIONS, LabOptionError, labOptions } from "../../src/lab/options.js";
import { QUICK_RUN_SCENARIOS, scaleText } from "../../src/lab/quick.js";
import { findScenario, scenarios } from "../../src/lab/registry.js";

describe("lab options", () => {
  it("fills in the defaults", () => {
    assert.deepEqual(labOptions(), DEFAULT_LAB_OPTIONS);
    assert.deepEqual(labOptions({ scale: 1 }), { requests: 20_000, scale: 1 });
  });

  it("runs the whole lab's quick run unless a scale, or a scenario by name, asks for full size", () => {
    assert.equal(labOptions().quick, true, "no options: the quick run");
    assert.equal(labOptions({ scale: 0.25 }).quick, undefined, "a scale given: full size");
    assert.equal(labOptions({ quick: false }).quick, undefined);
    assert.equal(labOptions({ scale: 1, quick: true }).quick, true);
    assert.equal(parseLabArgs([]).options.quick, true, "timebound lab");
    assert.equal(parseLabArgs(["--scale", "0.25"]).options.quick, undefined, "--scale");
    assert.equal(parseLabArgs(["--only", "gateway"]).options.quick, undefined, "--only");
    assert.equal(parseLabArgs(["--requests", "100"]).options.quick, true, "--requests");
    assert.throws(() => labOptions({ quick: "yes" } as never), {
      name: "LabOptionError",
      message: "quick must be true or false, got yes",
    });
    assert.equal(
      scaleText("pg-query", labOptions(), 0.15),
      "times scaled by x0.15: the whole lab's quick run; `timebound lab --only pg-query` runs x0.25",
    );
    assert.equal(scaleText("pg-query", labOptions({ scale: 0.1 }), 0.1), "times scaled by x0.1");
    for (const id of QUICK_RUN_SCENARIOS) {
      assert.ok(findScenario(id) !== undefined, `${id}, shortened in the quick run, is a scenario`);
    }
  });

  it("refuses with a LabOptionError that has a code, and an unknown option by name", () => {
    assert.throws(
      () => labOptions({ requests: 0 }),
      (err: unknown) => {
        assert.ok(err instanceof LabOptionError, "a LabOptionError");
        assert.ok(err instanceof RangeError, "still a RangeError");
        assert.equal(err.name, "LabOptionError");
        assert.equal(err.code, "TIMEBOUND_ERR_LAB_OPTION");
        assert.equal(err.expected, "a whole number from 1 to 1,000,000");
        assert.match(String(err.stack), /^LabOptionError: requests must be a whole number/);
        return true;
      },
    );
    assert.throws(() => labOptions({ out: "" }), { code: "TIMEBOUND_ERR_LAB_OPTION" });
    assert.throws(() => labOptions({ request: 5 } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message:
        /^labOptions: unknown option options\.request \(known: requests, scale, quick, out\)/,
    });
  });

  it("refuses out-of-range values, naming the option and the value", () => {
    for (const [given, option] of [
      [{ requests: 0 }, "requests"],
      [{ requests: 1.5 }, "requests"],
      [{ requests: 2_000_000 }, "requests"],
      [{ scale: 0 }, "scale"],
      [{ scale: Number.NaN }, "scale"],
      [{ scale: 11 }, "scale"],
    ] as const) {
      assert.throws(
        () => labOptions(given),
        (err: unknown) =>
          err instanceof LabOptionError &&
          err.option === option &&
          err.message.startsWith(`${option} must be`) &&
          err.message.includes(String(Object.values(given)[0])),
      );
    }
  });
});

describe("lab registry", () => {
  it("lists the scenarios with unique ids, each findable", () => {
    const ids = scenarios.map((s) => s.id);
    assert.deepEqual(ids, [
      "missing-cancel",
      "nested-deadlines",
      "http-fetch",
      "pg-query",
      "redis-blocking",
      "grpc-deadline",
      "process-tree",
      "timer-recursion",
      "leak-rate",
      "fetch-signal",
      "three-tier",
      "fan-out",
      "gateway",
    ]);
    assert.equal(new Set(ids).size, ids.length);
    for (const s of scenarios) {
      assert.equal(findScenario(s.id), s);
      assert.ok(s.title && s.goArticle && s.wrong && s.right, s.id);
    }
    assert.equal(findScenario("nope"), undefined);
  });
});
