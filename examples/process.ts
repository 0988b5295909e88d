// A child process tree stopped when the deadline passes: the shell and every process it started.
// Run: `node --import tsx examples/process.ts`.
import { DeadlineExceeded, background, withTimeout } from "timebound";
import { exec, spawn } from "timebound/process";

try {
  using ctx = withTimeout(background(), 200, { name: "build" });
  await exec(ctx, "sleep 30 & sleep 30; echo never");
} catch (err) {
  if (err instanceof DeadlineExceeded) console.log(`exec stopped: ${err.message}`);
}

// spawn returns the child at once; `stopped` says how its processes went.
using ctx = withTimeout(background(), 100, { name: "worker" });
const worker = spawn(ctx, "sh", ["-c", "trap '' TERM; sleep 30"], { graceMs: 200 });
const stop = await worker.stopped;
console.log(`the worker ignored SIGTERM; outcome: ${stop.outcome}`);
