import assert from "node:assert/strict";
import { type ChildProcess, spawn as nodeSpawn } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { hasProcTable, runningWithEnv } from "../../../src/io/process/proc.js";
import { waitFor } from "./helpers.js";

const started: ChildProcess[] = [];
after(() => {
  for (const child of started) child.kill("SIGKILL");
});

/** A sleep with `env` as its whole environment, running once this resolves. */
async function sleepWith(env: NodeJS.ProcessEnv): Promise<number> {
  const child = nodeSpawn("sleep", ["30"], {
    env: { PATH: process.env.PATH, ...env },
    stdio: "ignore",
  });
  started.push(child);
  await once(child, "spawn");
  return child.pid!;
}

const pidsWith = (entry: string): number[] => runningWithEnv(entry).map((p) => p.pid);

describe(
  "runningWithEnv: finds processes by a whole environment entry",
  { skip: !hasProcTable(), timeout: 20_000 },
  () => {
    it("matches the whole entry only, not a longer name or value", async () => {
      const tag = `T${process.pid}`;
      const exact = await sleepWith({ [`${tag}_MARK`]: "1" });
      const longerValue = await sleepWith({ [`${tag}_MARK`]: "10" });
      const longerName = await sleepWith({ [`X${tag}_MARK`]: "1" });
      const entry = `${tag}_MARK=1`;
      assert.ok(
        await waitFor(() => pidsWith(entry).includes(exact), 2000),
        "the exec'd sleep is found",
      );
      const found = pidsWith(entry);
      assert.deepEqual(found, [exact], `found ${found.join()} for ${entry}`);
      assert.ok(
        !found.includes(longerValue) && !found.includes(longerName),
        "prefixes do not match",
      );
    });

    it("reads an environment larger than its buffer, the entry at its very end", async () => {
      const tag = `T${process.pid}_BIG`;
      const big = await sleepWith({ A_FILLER: "x".repeat(100_000), [`ZZ_${tag}`]: "end" });
      assert.ok(
        await waitFor(() => pidsWith(`ZZ_${tag}=end`).includes(big), 2000),
        "found past the first 16 KiB",
      );
    });

    it("does not count a process once it has exited", async () => {
      const tag = `T${process.pid}_GONE`;
      const pid = await sleepWith({ [tag]: "1" });
      assert.ok(
        await waitFor(() => pidsWith(`${tag}=1`).includes(pid), 2000),
        "found while it runs",
      );
      process.kill(pid, "SIGKILL");
      assert.ok(await waitFor(() => pidsWith(`${tag}=1`).length === 0, 2000), "gone once killed");
    });
  },
);
