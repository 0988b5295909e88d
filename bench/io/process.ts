// timebound/process under a deadline: how soon the caller is released and how soon the child's
// whole process tree is gone, over many runs, beside the usual way (child_process.spawn with
// signal: AbortSignal.timeout), whose grandchildren never stop by themselves.
import { execFile as nodeExecFile, spawn as nodeSpawn } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { background, now, withTimeout } from "../../src/index.js";
import { PROCESS_GROUPS, execFile, spawn } from "../../src/io/process/index.js";
import { hasProcessTable, processGroupAlive, processesWithEnv } from "../../src/testing/index.js";
import { type Row, row } from "../harness.js";
import { type CancelSample, type IoBenchEnv, type LatencyRow, summarize } from "./latency.js";

/** The command of nodejs/node#46865: a shell that starts two commands and waits for them. */
const COMMAND = "sleep 30 & sleep 30";
const DEADLINE_MS = 50;
/** How long after the deadline the usual way's survivors are watched before the bench kills them. */
const WATCH_MS = 100;
/** Give up on a tree that is not gone by then (it would be a bug: the sample says "never"). */
const GONE_TIMEOUT_MS = 5000;
/** Spawns timed for the overhead row, per side. */
const OVERHEAD_SPAWNS = 100;

const ADAPTER = "process";
const MARKER = "TIMEBOUND_BENCH_PROCESS";

export async function run(env: IoBenchEnv): Promise<{ latency: LatencyRow[]; overhead?: Row[] }> {
  if (!PROCESS_GROUPS || !hasProcessTable()) {
    console.log("process: skipped (needs POSIX process groups and a Linux /proc)");
    return { latency: [] };
  }
  const ours: CancelSample[] = [];
  const usual: CancelSample[] = [];
  for (let i = 0; i < env.runs; i++) {
    ours.push(await timeboundRun());
    usual.push(await usualRun(`${MARKER}=${process.pid}-${i}`));
  }
  return {
    latency: [
      summarize(ADAPTER, "timebound spawn (process group)", ours),
      summarize(ADAPTER, "spawn + AbortSignal.timeout", usual),
    ],
    overhead: [await spawnOverhead(Math.min(env.runs, OVERHEAD_SPAWNS))],
  };
}

/** timebound: the caller's rejection, then the whole group gone, each measured from the deadline. */
async function timeboundRun(): Promise<CancelSample> {
  using ctx = withTimeout(background(), DEADLINE_MS);
  const deadline = ctx.deadline!;
  const p = spawn(ctx, COMMAND, [], { shell: true, stdio: "ignore" });
  const pgid = p.child.pid!;
  const callerAt = await p.exited.then(
    () => Number.NaN, // exited by itself: cannot happen with sleep 30
    () => now(),
  );
  // Watched from here, not taken from p.stopped: the bench checks the library.
  const gone = await until(() => !processGroupAlive(pgid), deadline + GONE_TIMEOUT_MS);
  const workMs = gone === undefined ? null : gone - deadline;
  if (gone === undefined) process.kill(-pgid, "SIGKILL");
  return { callerMs: callerAt - deadline, workMs, nextCallOk: await nextCallWorks() };
}

/** The usual way: Node kills /bin/sh on abort; the sleeps it started are found by their marker. */
async function usualRun(marker: string): Promise<CancelSample> {
  const [name, value] = marker.split("=") as [string, string];
  const deadline = now() + DEADLINE_MS;
  const child = nodeSpawn(COMMAND, {
    shell: true,
    stdio: "ignore",
    signal: AbortSignal.timeout(DEADLINE_MS),
    env: { ...process.env, [name]: value },
  });
  // The caller learns of the abort from the AbortError Node emits; 'close' if it ended itself.
  const callerAt = await new Promise<number>((resolve) => {
    child.once("error", () => resolve(now()));
    child.once("close", () => resolve(now()));
  });
  const gone = await until(() => processesWithEnv(marker).length === 0, deadline + WATCH_MS);
  if (gone === undefined) {
    for (const p of processesWithEnv(marker)) process.kill(p.pid, "SIGKILL");
    await until(() => processesWithEnv(marker).length === 0, now() + GONE_TIMEOUT_MS);
  }
  return {
    callerMs: callerAt - deadline,
    workMs: gone === undefined ? null : gone - deadline,
    nextCallOk: await nextCallWorks(),
  };
}

/** Polls `condition` every millisecond until it holds (its time) or `deadline` passes (undefined). */
async function until(condition: () => boolean, deadline: number): Promise<number | undefined> {
  for (;;) {
    if (condition()) return now();
    if (now() >= deadline) return undefined;
    await delay(1);
  }
}

/** Whether a child started right after works (nothing was left broken). */
async function nextCallWorks(): Promise<boolean> {
  const ctx = withTimeout(background(), 5000);
  try {
    const { stdout, code } = await execFile(ctx, "echo", ["ok"]);
    return code === 0 && stdout === "ok\n";
  } catch {
    return false;
  } finally {
    ctx.cancel();
  }
}

/** Spawns per second: timebound's execFile against child_process.execFile, interleaved. */
async function spawnOverhead(spawns: number): Promise<Row> {
  const nodeExecFileAsync = promisify(nodeExecFile);
  let oursMs = 0;
  let anchorMs = 0;
  for (let i = 0; i < spawns; i++) {
    const ctx = withTimeout(background(), 5000);
    let t = now();
    await execFile(ctx, "true");
    oursMs += now() - t;
    ctx.cancel();
    t = now();
    await nodeExecFileAsync("true");
    anchorMs += now() - t;
  }
  return row(
    "process: execFile(ctx, 'true')",
    "child_process.execFile('true')",
    (spawns * 1000) / oursMs,
    (spawns * 1000) / anchorMs,
  );
}
