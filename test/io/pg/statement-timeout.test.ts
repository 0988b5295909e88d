import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { background, now, withTimeout } from "../../../src/index.js";
import { type PgOptions, query } from "../../../src/io/pg/index.js";
import { SESSION_LIMIT_TRUST_MS } from "../../../src/io/pg/session-limit.js";
import { startPostgres } from "../../../src/testing/index.js";
import { pgUrl } from "../../services.js";
import { Observer, pause, testClient, uniqueName, withPool } from "./helpers.js";

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

/**
 * Reads statement_timeout as the statement sees it. Spelled in two parts: a text that names the
 * setting may change it, so the adapter would read the session's limit again after it, and the
 * guard's cheap forms would go untested.
 */
const SEEN = "current_setting('statement' || '_timeout')";

/** statement_timeout as the statement saw it, in ms (0: none). */
async function guardSeen(ctxMs: number, options?: PgOptions, values?: unknown[]): Promise<number> {
  const ctx = withTimeout(background(), ctxMs);
  const sql =
    values === undefined ? `SELECT ${SEEN} AS st` : `SELECT ${SEEN} AS st, $1::int AS one`;
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
      // The first statement reads the session's own limit, the next ones use the cheap form.
      for (let i = 0; i < 3; i++) {
        const seen = await guardSeen(5_000, undefined, values);
        assert.ok(seen > 4_900 && seen <= 5_100, `guard ${seen} ms`);
      }
      assert.equal(await sessionSetting(), 0, "the session's setting is untouched");
    }
    const noSlack = await guardSeen(5_000, { statementTimeoutSlackMs: 0 });
    assert.ok(noSlack > 4_900 && noSlack <= 5_000, `guard ${noSlack} ms`);
  });

  it("never loosens a tighter limit of the session's own", async () => {
    await guardSeen(5_000); // the session's limit (none) is known now
    await client.query("SET statement_timeout = '1s'");
    try {
      for (let i = 0; i < 3; i++) assert.equal(await guardSeen(5_000), 1_000);
      const tight = await guardSeen(300);
      assert.ok(tight > 200 && tight <= 400, `guard ${tight} ms`);
    } finally {
      await client.query("RESET statement_timeout");
    }
    assert.ok((await guardSeen(5_000)) > 4_900, "the limit is gone again");
  });

  it("never loosens a limit set by a statement it ran itself, in either protocol", async () => {
    await guardSeen(5_000);
    const setters: [string, unknown[] | undefined][] = [
      ["SET statement_timeout = '1s'", undefined],
      ["SELECT set_config($1, $2, false)", ["statement_timeout", "1s"]],
    ];
    for (const [sql, values] of setters) {
      await query(withTimeout(background(), 5_000), client, sql, values);
      try {
        for (let i = 0; i < 3; i++) assert.equal(await guardSeen(5_000), 1_000, sql);
        assert.equal(await guardSeen(5_000, undefined, [1]), 1_000, sql);
      } finally {
        await query(background(), client, "RESET statement_timeout");
      }
      assert.ok((await guardSeen(5_000)) > 4_900, `after ${sql}, the limit is gone again`);
    }
  });

  it("never loosens a limit from the connection's options; below it, it still tightens", async () => {
    await withPool("guard-options", { max: 1, statement_timeout: 1_000 }, async (pool) => {
      const seen = async (ms: number): Promise<number> => {
        const ctx = withTimeout(background(), ms);
        const { rows } = await query<{ st: string }>(ctx, pool, `SELECT ${SEEN} AS st`);
        ctx.cancel();
        return toMs(rows[0]!.st);
      };
      for (let i = 0; i < 3; i++) assert.equal(await seen(5_000), 1_000);
      const tight = await seen(300);
      assert.ok(tight > 200 && tight <= 400, `guard ${tight} ms`);
    });
  });

  it("sees a limit an administrator sets with a configuration reload within a second", async () => {
    const server = await startPostgres(); // ALTER SYSTEM would reach every other test's sessions
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    pool.on("error", () => {}); // the server's shutdown ends the idle connection
    try {
      const seen = async (): Promise<number> => {
        const ctx = withTimeout(background(), 5_000);
        const { rows } = await query<{ st: string }>(ctx, pool, `SELECT ${SEEN} AS st`);
        ctx.cancel();
        return toMs(rows[0]!.st);
      };
      assert.ok((await seen()) > 4_900, "no limit of the server's own yet");
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("ALTER SYSTEM SET statement_timeout = '700ms'");
      await admin.query("SELECT pg_reload_conf()");
      await admin.end();
      // A new session has the new limit once the postmaster reloaded, and had signaled the
      // pool's backend, which applies it as its next statement arrives.
      let reloaded = false;
      for (let i = 0; i < 100 && !reloaded; i++) {
        const fresh = new pg.Client({ connectionString: server.url });
        await fresh.connect();
        const { rows } = await fresh.query<{ statement_timeout: string }>("SHOW statement_timeout");
        await fresh.end();
        reloaded = rows[0]!.statement_timeout === "700ms";
        if (!reloaded) await pause(20);
      }
      assert.ok(reloaded, "the server reloaded its configuration");
      await seen();
      await pause(SESSION_LIMIT_TRUST_MS + 100);
      assert.equal(await seen(), 700, "read again once trusted for a second");
    } finally {
      await pool.end();
      await server.stop();
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
      warmup = 0,
      protocol: "simple" | "extended" = "simple",
    ): Promise<{ name: string; stoppedAfter: number | undefined }> => {
      const name = uniqueName(`hang-${guard}`);
      const child = spawn(
        process.execPath,
        ["--import", "tsx", fixture, pgUrl(), name, "300", guard, String(warmup), protocol],
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
    // The first statement on a connection carries the guard that reads the session's limit;
    // after a few, the cheap forms (SET LOCAL; a constant set_config in the extended protocol).
    for (const [warmup, protocol] of [
      [0, "simple"],
      [3, "simple"],
      [3, "extended"],
    ] as const) {
      const guarded = await run("on", warmup, protocol);
      assert.ok(
        guarded.stoppedAfter !== undefined && guarded.stoppedAfter < 1_000,
        `guarded statement (${protocol}, after ${warmup}) stopped after ${guarded.stoppedAfter} ms`,
      );
    }
    const unguarded = await run("off");
    assert.equal(unguarded.stoppedAfter, undefined, "without the guard it would still be running");
  });
});
