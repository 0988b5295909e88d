import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIO } from "../src/cli/io.js";
import { parseLabArgs } from "../src/cli/lab.js";
import { main } from "../src/cli/main.js";
import { progressLine } from "../src/cli/progress.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "timebound.js");
const built = existsSync(join(root, "dist", "esm", "cli", "main.js"));
const needsBuild = built ? false : "dist/esm/cli/main.js is missing: run npm run build first";

/** A CliIO that collects what is written. */
function memoryIO(): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    version: "9.9.9-test",
    out: () => out,
    err: () => err,
  };
}

async function runMain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

function runBin(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli main", () => {
  it("prints the version and the help", async () => {
    assert.deepEqual(await runMain("--version"), { code: 0, out: "9.9.9-test\n", err: "" });
    for (const argv of [[], ["help"], ["--help"], ["-h"]]) {
      const r = await runMain(...argv);
      assert.equal(r.code, 0, argv.join(" "));
      assert.match(r.out, /^timebound 9\.9\.9-test/);
      assert.match(r.out, /^ {2}lab {2,}run the lab/m);
      assert.match(r.out, /^ {2}help {2,}/m);
    }
    const lab = await runMain("help", "lab");
    assert.equal(lab.code, 0);
    assert.match(lab.out, /^Usage: timebound lab/);
    assert.match(lab.out, /--requests <n>/);
    assert.match(lab.out, /^ {2}nested-deadlines /m);
  });

  it("refuses an unknown command with exit 2, naming it and listing the commands", async () => {
    const r = await runMain("labb");
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(
      r.err,
      /^timebound: unknown command "labb"; commands: lab, diagnose, gateway, help\n/,
    );
    assert.match(r.err, /Run "timebound --help" for usage\./);
    const opt = await runMain("--frobnicate");
    assert.equal(opt.code, 2);
    assert.match(opt.err, /unknown option "--frobnicate"/);
  });

  it("refuses bad lab options with exit code 2, naming the option and the bad value", async () => {
    const cases: [string[], RegExp][] = [
      [["--requests", "abc"], /--requests must be a whole number from 1 to 1,000,000, got "abc"/],
      [["--requests=0"], /--requests must be a whole number .*, got "0"/],
      [["--scale", "fast"], /--scale must be a number from 0\.05 to 10, got "fast"/],
      [["--scale=-1"], /--scale must be a number from 0\.05 to 10, got "-1"/],
      [
        ["--scale", "-1"],
        /--scale needs a value; one that starts with "-" is written --scale=<value>/,
      ],
      [["--scale=100"], /--scale must be a number from 0\.05 to 10, got "100"/],
      [["--only", "nope"], /--only: unknown scenario "nope"; scenarios: missing-cancel, /],
      [["--requests"], /--requests needs a value/],
      [["--json=yes"], /--json takes no value/],
      [["--fast"], /unknown option "--fast"; options: --only, --requests/],
      [["extra"], /unexpected argument "extra"/],
    ];
    for (const [args, message] of cases) {
      const r = await runMain("lab", ...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.err, /^timebound lab: /, args.join(" "));
      assert.match(r.err, message, args.join(" "));
      assert.match(r.err, /Run "timebound lab --help" for usage\./);
      assert.equal(r.out, "");
    }
  });

  it("parses lab options in both spellings, keeping the registry's order", () => {
    const parsed = parseLabArgs([
      "--only=nested-deadlines,missing-cancel",
      "--requests",
      "5_000",
      "--scale=.5",
      "--json",
    ]);
    assert.deepEqual(
      parsed.scenarios.map((s) => s.id),
      ["missing-cancel", "nested-deadlines"],
    );
    assert.deepEqual(parsed.options, { requests: 5_000, scale: 0.5 });
    assert.equal(parsed.json, true);
    assert.equal(parseLabArgs(["--requests", "20,000"]).options.requests, 20_000);
  });

  it("runs the lab in-process and prints JSON with the measured rows", async () => {
    const r = await runMain("lab", "--only", "nested-deadlines", "--scale", "0.1", "--json");
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as {
      options: { scale: number };
      scenarios: { id: string; rows: { key: string; right: { value: unknown } }[] }[];
    };
    assert.equal(report.options.scale, 0.1);
    assert.deepEqual(
      report.scenarios.map((s) => s.id),
      ["nested-deadlines"],
    );
    const rows = report.scenarios[0]!.rows;
    assert.equal(rows.find((row) => row.key === "c.error")?.right.value, "Canceled");
    // Not a terminal: progress is one plain line per step on stderr.
    assert.match(r.err, /^nested-deadlines: case \(a\)/m);
    assert.doesNotMatch(r.err, /\r/);
  });
});

describe("cli progress line", () => {
  it("redraws one line on a terminal and clears it when done", () => {
    let written = "";
    const line = progressLine({ write: (s: string) => (written += s), isTTY: true, columns: 30 });
    line.step("missing-cancel: wrong variant, 20,000 requests");
    line.tick("too soon after the step: dropped");
    line.done();
    assert.equal(written, "\rmissing-cancel: wrong variant\x1b[K\r\x1b[K");
  });

  it("writes plain lines elsewhere and drops ticks", () => {
    let written = "";
    const line = progressLine({ write: (s: string) => (written += s) });
    line.step("one");
    line.tick("1 / 2");
    line.step("two");
    line.done();
    assert.equal(written, "one\ntwo\n");
  });
});

describe("bin/timebound.js", () => {
  it("runs the lab from the build and prints the table", { skip: needsBuild }, () => {
    const r = runBin("lab", "--only", "nested-deadlines", "--scale", "0.1");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^timebound lab: wrong vs right/);
    assert.match(r.stdout, /\[1\/1\] nested-deadlines: /);
    assert.match(
      r.stdout,
      /measure +wrong: AbortSignal\.timeout \+ AbortSignal\.any +right: timebound/,
    );
    assert.match(r.stdout, /\(a\) parent 3 s, child 2 s \(run at x0\.1: 300 ms \/ 200 ms\)/);
    assert.match(r.stdout, /DeadlineExceeded \(name TimeoutError\)/);
    assert.match(r.stdout, /ancestor "parent"/);
    assert.match(r.stdout, /Canceled \(name AbortError\)/);
    assert.match(r.stderr, /nested-deadlines: case \(c\)/);
  });

  it("exits 2 with a clear message for bad input", { skip: needsBuild }, () => {
    const bad = runBin("lab", "--scale", "zero");
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /timebound lab: --scale must be a number from 0\.05 to 10, got "zero"/,
    );
    const unknown = runBin("serve");
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /timebound: unknown command "serve"; commands: lab, diagnose, gateway, help/,
    );
    const version = runBin("--version");
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it("says to build first when dist is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-bin-"));
    try {
      mkdirSync(join(dir, "bin"));
      copyFileSync(bin, join(dir, "bin", "timebound.js"));
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ type: "module", version: "0.0.0" }),
      );
      const r = spawnSync(process.execPath, [join(dir, "bin", "timebound.js"), "lab"], {
        encoding: "utf8",
        timeout: 10_000,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /the CLI is not built .*run npm run build first/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
