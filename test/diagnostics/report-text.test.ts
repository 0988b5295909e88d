import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CancelableContext, background, withCancel, withTimeout } from "../../src/index.js";
import { NOT_TRACKING, toTextReport } from "../../src/diagnostics/report-text.js";
import { type Tracking, snapshot, track } from "../../src/diagnostics/track.js";

describe("text reports (goroutine debug=1 / debug=2)", () => {
  let tracking: Tracking;
  const live: CancelableContext[] = [];

  function makeWorker(): CancelableContext {
    return withCancel(background(), { name: "grouped" });
  }

  function makeRequest(): CancelableContext {
    return withTimeout(background(), 60_000, { name: "request" });
  }

  before(() => {
    tracking = track({ timers: false, dumpSignal: false });
    for (let i = 0; i < 1_000; i++) live.push(makeWorker());
    for (let i = 0; i < 2; i++) live.push(makeRequest());
  });

  after(() => {
    for (const ctx of live) ctx.cancel();
    tracking.stop();
  });

  it("debug=1: 1,000 contexts from one site are one group with count 1000", () => {
    const text = toTextReport(tracking.snapshot(), { debug: 1, sections: ["contexts"] });
    const groups = text.split("\n").filter((line) => / @ /.test(line));
    assert.equal(groups.length, 2, text);
    assert.match(groups[0]!, /^1000 @ withCancel "grouped" \(no deadline\), oldest \d/);
    assert.match(groups[1]!, /^2 @ withTimeout "request" \(deadline\), oldest \d/);
    assert.match(text, /live contexts: total 1,002\n/);
    // Go's frame lines: "#\tfunction\tfile:line:col", the creating function first.
    assert.match(text, /\n#\tmakeWorker\t\S+report-text\.test\.ts:\d+:\d+\n/);
  });

  it("debug=2: each item with its state, age, deadline and created by", () => {
    const text = toTextReport(tracking.snapshot(), {
      debug: 2,
      sections: ["contexts"],
      maxPerGroup: 3,
    });
    assert.match(
      text,
      /\ncontext \d+ "request" \[withTimeout, live \d+ ms, deadline in 5\d\.\d s\]:\nmakeRequest\(\.\.\.\)\n\t\S+report-text\.test\.ts:\d+:\d+\n/,
    );
    assert.match(text, /\ncreated by makeRequest\n/);
    assert.match(
      text,
      /\ncontext \d+ "grouped" \[withCancel, live \d+ ms, no deadline\]:\nmakeWorker\(\.\.\.\)\n/,
    );
    // Bounded: three items of the big group, then a count of the rest.
    assert.equal(text.match(/"grouped" \[/g)?.length, 3);
    assert.match(text, /… and 997 more contexts with this stack\n/);
  });

  it("debug=2 prints every item unless a cap is asked for", () => {
    const text = toTextReport(tracking.snapshot(), { debug: 2, sections: ["contexts"] });
    assert.equal(text.match(/"grouped" \[/g)?.length, 1_000, "all 1,000 of the big group");
    assert.equal(text.match(/"request" \[/g)?.length, 2);
    assert.doesNotMatch(text, /… and \d+ more/);
  });

  it("bounds the number of groups and says how many were left out", () => {
    const text = toTextReport(tracking.snapshot(), {
      debug: 1,
      sections: ["contexts"],
      maxGroups: 1,
    });
    assert.match(text, /… and 1 more stack \(2 contexts\)\n/);
  });

  it("says what the snapshot itself left out", () => {
    const s = tracking.snapshot({ maxContexts: 10 });
    assert.equal(s.contexts.length, 10);
    assert.equal(s.omitted.contexts, 992);
    const text = toTextReport(s, { debug: 1, sections: ["contexts"] });
    assert.match(text, /… and 992 more contexts not in this snapshot \(size bound\)\n/);
    assert.match(toTextReport(s), /1,002 live contexts \(10 in this snapshot\)/);
  });

  it("rejects bad options with the option's name", () => {
    const s = tracking.snapshot();
    assert.throws(
      () => toTextReport(s, { debug: 3 as 1 }),
      /options\.debug must be one of 1, 2, got 3/,
    );
    assert.throws(
      () => toTextReport(s, { maxGroups: 0 }),
      /toTextReport: options\.maxGroups must be an integer from 1 to 1,000,000, got 0/,
    );
  });
});

describe("a report while nothing is tracked", () => {
  it("says tracking is off and how to turn it on, without failing", () => {
    const s = snapshot();
    assert.equal(s.trackingSince, undefined);
    assert.equal(toTextReport(s), NOT_TRACKING);
    assert.equal(toTextReport(s, { debug: 2 }), NOT_TRACKING);
    assert.match(NOT_TRACKING, /--import timebound\/register/);
  });
});
