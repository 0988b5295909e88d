import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { background, now, withTimeout } from "../../../src/index.js";
import { type PgOptions, query } from "../../../src/io/pg/index.js";
import { pgUrl } from "../../services.js";
import { Observer, pause, testClient, uniqueName } from "./helpers.js";

let observer: Observer;
let client: pg.Client;
before(async () => {
  observer = await Observer.open();
  client = (await testClient("guard")).client;
});
after(async () => {
  await client.end();
  await observer.close();
});

/** statement_timeout as the statement saw it, in ms (0: none). */
async function guardSeen(ctxMs: number, options?: PgOptions, values?: unknown[]): Promise<number> {
  const ctx = withTimeout(background(), ctxMs);
  const sql =
    values === undefined
      ? "SELECT current_setting('statement_timeout') AS st"
      : "SELECT current_setting('statement_timeout') AS st, $1::int AS one";
  const { rows } = await query<{ st: string }>(ctx, client, sql, values, options);
  ctx.cancel();
  return toMs(rows[0]!.st);
}

function toMs(setting: string): number {
  const m = /^(\d+)(ms|s|min)?$/.exec(setting);
  assert.ok(m, `unexpected statement_timeout ${setting}`);
  const unit = m[2] === "s" ? 1_000 : m[2] === "min" ? 60_000 : 1;
  return Number(m[1]) * unit;
}

async function sessionSetting(): Promise<number> {
  const { rows } = await client.query<{ st: string }>(
    "SELECT current_setting('statement_timeout') AS st",
  );
  return toMs(rows[0]!.st);
}

describe("the statement_timeout guard", () => {
  it("is the time left plus the slack, in both protocols, for that statement only", async () => {
    for (const values of [undefined, [1]]) {
      const seen = await guardSeen(5_000, undefined, values);
      assert.ok(seen > 4_900 && seen <= 5_100, `guard ${seen} ms`);
      assert.equal(await sessionSetting(), 0, "the session's setting is untouched");
    }
    const noSlack = await guardSeen(5_000, { statementTimeoutSlackMs: 0 });
    assert.ok(noSlack > 4_900 && noSlack <= 5_000, `guard ${noSlack} ms`);
  });

  it("never loosens a tighter limit of the session's own", async () => {
    await client.query("SET statement_timeout = '1s'");
    try {
      assert.equal(await guardSeen(5_000), 1_000);
      const tight = await guardSeen(300);
      assert.ok(tight > 200 && tight <= 400, `guard ${tight} ms`);
    } finally {
      await client.query("RESET statement_timeout");
    }
  });

  it("is left out without a deadline, inside the caller's own transaction, or when turned off", async () => {
    const { rows } = await query<{ statement_timeout: string }>(
      background(),
      client,
      "SHOW statement_timeout",
    );
    assert.equal(rows[0]!.statement_timeout, "0");
    assert.equal(await guardSeen(5_000, { statementTimeout: false }), 0);
    await client.query("BEGIN");
    try {
      assert.equal(await guardSeen(5_000), 0, "would outlive the statement");
    } finally {
      await client.query("ROLLBACK");
    }
  });

  it("stops the statement on the server when the client hangs and dies; without it the statement runs on", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/hang-mid-query.ts", import.meta.url));
    const run = async (
      guard: "on" | "off",
    ): Promise<{ name: string; stoppedAfter: number | undefined }> => {
      const name = uniqueName(`hang-${guard}`);
      const child = spawn(
        process.execPath,
        ["--import", "tsx", fixture, pgUrl(), name, "300", guard],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      try {
        const [line] = (await once(child.stdout, "data")) as [Buffer];
        assert.equal(line.toString().trim(), "sent");
        const sent = now();
        // The statement is running on the server; the client can do nothing about it now.
        let active = false;
        while (!active && now() - sent < 2_000) {
          active = (await observer.backends(name)).some((b) => b.state === "active");
        }
        assert.ok(active, "the statement reached the server");
        child.kill("SIGKILL");
        while (now() - sent < 1_500) {
          const busy = (await observer.backends(name)).some((b) => b.state === "active");
          if (!busy) return { name, stoppedAfter: now() - sent };
          await pause(10);
        }
        return { name, stoppedAfter: undefined };
      } finally {
        child.kill("SIGKILL");
        await observer.client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
          [name],
        );
      }
    };
    const guarded = await run("on");
    assert.ok(
      guarded.stoppedAfter !== undefined && guarded.stoppedAfter < 1_000,
      `guarded statement stopped after ${guarded.stoppedAfter} ms`,
    );
    const unguarded = await run("off");
    assert.equal(unguarded.stoppedAfter, undefined, "without the guard it would still be running");
  });
});
