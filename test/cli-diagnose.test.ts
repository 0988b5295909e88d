import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "timebound.js");
const built =
  existsSync(join(root, "dist", "esm", "cli", "main.js")) &&
  existsSync(join(root, "dist", "esm", "diagnostics", "register.js"));
const needsBuild = built ? false : "dist is missing: run node scripts/build.mjs first";

function runBin(args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("timebound diagnose (CLI)", { skip: needsBuild }, () => {
  it("runs a leaky program and writes the report folder", () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-cli-diagnose-"));
    try {
      const r = runBin(["diagnose", "--out", out, "--", "node", "test/cli-fixtures/leaky.mjs"], {
        TIMEBOUND_NEVER_CANCELED_MS: "150",
        TIMEBOUND_DUMP_SIGNAL: "off",
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /sessions 3/, "the program's own output goes through");
      assert.match(r.stdout, /timebound diagnose: \d+ findings?/);
      assert.match(r.stdout, /\[lost-cancel\] .*"session"/);
      assert.ok(r.stdout.includes(`in ${out}:`), r.stdout);
      for (const file of [
        "dump.txt",
        "report.json",
        "profile.pb.gz",
        "flamegraph.html",
        "growth.csv",
      ]) {
        assert.ok(existsSync(join(out, file)), `${file} in ${out}`);
      }
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as {
        findings: { kind: string; message: string }[];
      };
      assert.ok(
        report.findings.some((f) => f.kind === "lost-cancel" && f.message.includes("session")),
        JSON.stringify(report.findings),
      );
      assert.match(readFileSync(join(out, "dump.txt"), "utf8"), /openSession/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("passes the program's exit code on", () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-cli-diagnose-"));
    try {
      const r = runBin(["diagnose", "--out", out, "--", "node", "-e", "process.exitCode = 3"]);
      assert.equal(r.status, 3, r.stderr);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("a program that cannot start fails in one line, with no stack trace", () => {
    const out = mkdtempSync(join(tmpdir(), "timebound-cli-diagnose-"));
    try {
      const r = runBin(["diagnose", "--out", out, "--", "nosuchcmd-timebound"]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(
        r.stderr,
        'timebound diagnose: could not start "nosuchcmd-timebound": no such file or directory' +
          " (ENOENT): is it installed and on PATH?\n",
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("exits 2 with a clear message on bad usage", () => {
    const nothing = runBin(["diagnose", "--"]);
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /^timebound diagnose: nothing to run after --\n/);
    assert.match(nothing.stderr, /Run "timebound diagnose --help" for usage/);
    const empty = runBin(["diagnose"]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no command to run/);
    const unknown = runBin(["diagnose", "--verbose", "--", "node", "x.js"]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option "--verbose"/);
  });

  it("prints its help, and is listed in the top-level help", () => {
    const help = runBin(["diagnose", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: timebound diagnose \[--out <dir>\] -- <command>/);
    const top = runBin(["--help"]);
    assert.match(top.stdout, /^ {2}diagnose {2,}run a program with tracking on/m);
  });
});
