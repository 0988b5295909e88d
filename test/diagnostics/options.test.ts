import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { channels } from "../../src/index.js";
import { optionsFromEnv, trackingFromEnv } from "../../src/diagnostics/env.js";
import { resolveTrackOptions } from "../../src/diagnostics/options.js";
import { isTracking, track } from "../../src/diagnostics/track.js";

describe("tracking options", () => {
  it("defaults suit production", () => {
    const o = resolveTrackOptions(undefined);
    assert.equal(o.neverCanceledMs, 60_000);
    assert.equal(o.ignoredCancellationMs, 1_000);
    assert.equal(o.timerSampleEvery, 8);
    assert.equal(o.dumpSignal, "SIGUSR2");
    assert.equal(o.reportDir, undefined);
    assert.deepEqual(o.bounds, { maxContexts: 10_000, maxOperations: 10_000, maxFindings: 500 });
  });

  it("bad options fail with the option's name and range", () => {
    assert.throws(
      () => track({ neverCanceledMs: -5 }),
      /track: options\.neverCanceledMs must be a number from 0 to 1,000,000,000, got -5/,
    );
    assert.throws(
      () => track({ timerSampleEvery: 1.5 }),
      /options\.timerSampleEvery must be an integer from 1 to 1,000,000, got 1\.5/,
    );
    assert.throws(
      () => track({ timers: "yes" as unknown as boolean }),
      /options\.timers must be true or false, got "yes"/,
    );
    assert.throws(
      () => track({ bounds: { maxContexts: -1 } }),
      /options\.bounds\.maxContexts must be an integer/,
    );
    assert.throws(
      () => track({ dumpSignal: "USR2" as NodeJS.Signals }),
      /options\.dumpSignal must be one of SIGUSR2, SIGUSR1, .*, or false for none .* got "USR2"/,
    );
    assert.equal(isTracking(), false, "a rejected call starts nothing");
  });

  it("refuses an option it does not know, naming the known ones, and starts nothing", () => {
    assert.throws(() => track({ neverCanceledMS: 5 } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: /^track: unknown option options\.neverCanceledMS \(known: neverCanceledMs, /,
    });
    assert.throws(() => track({ bounds: { maxContext: 5 } } as never), {
      code: "TIMEBOUND_ERR_UNKNOWN_OPTION",
      message: /^track: unknown option options\.bounds\.maxContext \(known: maxContexts, /,
    });
    assert.throws(() => track({ lateDeadlineMs: "50" } as never), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
    });
    assert.throws(() => track({ reportDir: "" }), {
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
      message: /^track: options\.reportDir must be a non-empty string, got ""/,
    });
    assert.equal(isTracking(), false, "a rejected call starts nothing");
  });

  it("spells canceled one way, and still reads the old spellings", () => {
    assert.equal(optionsFromEnv({ TIMEBOUND_NEVER_CANCELED_MS: "250" }).neverCanceledMs, 250);
    assert.equal(optionsFromEnv({ TIMEBOUND_NEVER_CANCELLED_MS: "350" }).neverCanceledMs, 350);
    assert.equal(
      optionsFromEnv({ TIMEBOUND_NEVER_CANCELED_MS: "1", TIMEBOUND_NEVER_CANCELLED_MS: "2" })
        .neverCanceledMs,
      1,
      "the new name wins",
    );
    assert.throws(
      () => optionsFromEnv({ TIMEBOUND_NEVER_CANCELLED_MS: "soon" }),
      /environment variable TIMEBOUND_NEVER_CANCELLED_MS must be a number, got "soon"/,
    );
    assert.equal(resolveTrackOptions({ neverCancelledMs: 5 }).neverCanceledMs, 5);
    assert.throws(
      () => resolveTrackOptions({ neverCancelledMs: 5, neverCanceledMs: 6 }),
      /neverCancelledMs is the old spelling of neverCanceledMs: give one of them/,
    );
  });

  it("refuses a dump signal that cannot be caught or does not exist, naming the variable", () => {
    for (const signal of ["SIGKILL", "SIGSTOP", "SIGFOO", "usr2"]) {
      assert.throws(
        () => optionsFromEnv({ TIMEBOUND_DUMP_SIGNAL: signal }),
        new RegExp(
          `environment variable TIMEBOUND_DUMP_SIGNAL must be one of SIGUSR2, .* got "${signal}"`,
        ),
      );
    }
    assert.equal(optionsFromEnv({ TIMEBOUND_DUMP_SIGNAL: "SIGHUP" }).dumpSignal, "SIGHUP");
  });

  it("the preload stops a program with a bad variable in one line, before it runs", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--import", "./src/diagnostics/register.ts", "-e", 'console.log("ran")'],
      { env: { ...process.env, TIMEBOUND_DUMP_SIGNAL: "SIGKILL" }, encoding: "utf8" },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, "", "the program did not run");
    assert.match(
      run.stderr,
      /^timebound\/register: environment variable TIMEBOUND_DUMP_SIGNAL must be one of .*got "SIGKILL"\n$/,
    );
  });

  it("reads the environment, naming the variable when a value is bad", () => {
    const o = optionsFromEnv({
      TIMEBOUND_NEVER_CANCELLED_MS: "250",
      TIMEBOUND_TIMERS: "0",
      TIMEBOUND_DUMP_SIGNAL: "off",
      TIMEBOUND_MAX_CONTEXTS: "7",
      TIMEBOUND_REPORT_DIR: "/tmp/x-%p",
    });
    assert.equal(o.neverCanceledMs, 250);
    assert.equal(o.timers, false);
    assert.equal(o.dumpSignal, false);
    assert.equal(o.bounds.maxContexts, 7);
    assert.equal(o.reportDir, "/tmp/x-%p");
    assert.throws(
      () => optionsFromEnv({ TIMEBOUND_LATE_DEADLINE_MS: "soon" }),
      /environment variable TIMEBOUND_LATE_DEADLINE_MS must be a number, got "soon"/,
    );
    assert.throws(
      () => optionsFromEnv({ TIMEBOUND_MAX_SAMPLES: "1" }),
      /optionsFromEnv: environment variable TIMEBOUND_MAX_SAMPLES must be an integer from 2 to 1,000,000, got 1/,
    );
    assert.throws(
      () => optionsFromEnv({ TIMEBOUND_FETCH: "maybe" }),
      /environment variable TIMEBOUND_FETCH must be 1 or 0/,
    );
    assert.equal(trackingFromEnv({}), undefined);
    assert.equal(trackingFromEnv({ TIMEBOUND_TRACK: "0" }), false);
  });
});

describe("tracking off costs nothing", () => {
  it("stop() leaves no subscriber and puts the globals back", () => {
    const before = { setTimeout, setInterval, setImmediate, fetch: globalThis.fetch };
    const tracking = track({ dumpSignal: false });
    assert.notEqual(globalThis.setTimeout, before.setTimeout);
    assert.equal(channels.created.hasSubscribers, true);
    assert.equal(track(), tracking, "track() while tracking returns the running one");
    tracking.stop();
    assert.equal(isTracking(), false);
    for (const channel of Object.values(channels)) assert.equal(channel.hasSubscribers, false);
    assert.equal(globalThis.setTimeout, before.setTimeout);
    assert.equal(globalThis.setInterval, before.setInterval);
    assert.equal(globalThis.setImmediate, before.setImmediate);
    assert.equal(globalThis.fetch, before.fetch);
  });
});
