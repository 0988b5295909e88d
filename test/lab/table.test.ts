import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GAP, renderTable, wrapCell } from "../../src/lab/table.js";

describe("renderTable", () => {
  it("sizes each column to its widest cell, with a rule under the header", () => {
    const out = renderTable(
      [{ header: "measure" }, { header: "wrong", align: "right" }, { header: "right" }],
      [
        ["timers", "20,000", "0"],
        ["heap", "+15.5 MB", "+0.1 MB"],
      ],
    );
    assert.equal(
      out,
      [
        "measure     wrong  right",
        "-------  --------  -------",
        "timers     20,000  0",
        "heap     +15.5 MB  +0.1 MB",
        "",
      ].join("\n"),
    );
  });

  it("wraps long cells at spaces, keeping the other columns on the row's first line", () => {
    const out = renderTable(
      [{ header: "m" }, { header: "says", maxWidth: 12 }],
      [["message", "the deadline of ancestor passed"]],
    );
    assert.deepEqual(out.split("\n"), [
      "m        says",
      "-------  ------------",
      "message  the deadline",
      "         of ancestor",
      "         passed",
      "",
    ]);
  });

  it("prints spans across the columns as they are, and GAP as a blank line", () => {
    const out = renderTable(
      [{ header: "a" }, { header: "b" }],
      [{ span: "(a) a heading longer than the table" }, ["1", "2"], GAP, ["3", "4"]],
      { indent: "  " },
    );
    assert.deepEqual(out.split("\n"), [
      "  a  b",
      "  -  -",
      "  (a) a heading longer than the table",
      "  1  2",
      "",
      "  3  4",
      "",
    ]);
  });

  it("leaves no trailing spaces and tolerates missing cells", () => {
    const out = renderTable([{ header: "a" }, { header: "bbbb" }], [["x"], ["y", "z"]]);
    for (const line of out.split("\n")) assert.equal(line, line.trimEnd());
    assert.match(out, /^x$/m);
  });
});

describe("wrapCell", () => {
  it("keeps explicit line breaks and cuts a word longer than the width", () => {
    assert.deepEqual(wrapCell("ab\nabcdefgh ij", 4), ["ab", "abcd", "efgh", "ij"]);
  });

  it("returns one empty line for an empty cell", () => {
    assert.deepEqual(wrapCell("", 10), [""]);
  });
});
