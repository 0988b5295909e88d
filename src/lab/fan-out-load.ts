// A fixed request rate, from autocannon in a process of its own: the load generator does not share
// the front service's event loop, and its latencies are corrected for coordinated omission.
import { spawn } from "node:child_process";
import { ownRequire } from "../io/own-require.js";

/** @internal What autocannon saw. */
export interface LoadResult {
  /** Requests answered (any status). */
  readonly requests: number;
  /** Answered requests per second over the run. */
  readonly rate: number;
  /** The 99th percentile of the latency the client saw, in ms. */
  readonly p99Ms: number;
  /** Connection errors and timeouts (not error statuses). */
  readonly errors: number;
}

/** @internal How to drive the front service. */
export interface LoadPlan {
  readonly url: string;
  /** Requests per second, over all connections. */
  readonly rate: number;
  readonly connections: number;
  /** Whole seconds (autocannon's unit). */
  readonly seconds: number;
}

/** @internal autocannon's command-line script, or a reason it cannot run here. */
export function autocannonScript(): string | { readonly missing: string } {
  try {
    const path = ownRequire()?.resolve("autocannon/autocannon.js");
    return path ?? { missing: "cannot resolve autocannon from timebound's folder" };
  } catch (err) {
    return { missing: `autocannon is not installed (${(err as Error).message.split("\n")[0]})` };
  }
}

/** @internal Runs autocannon at `plan.rate` requests/s; rejects if it fails or prints no result. */
export async function driveLoad(script: string, plan: LoadPlan): Promise<LoadResult> {
  const args = [
    script,
    "--json",
    "-c",
    String(plan.connections),
    "-R",
    String(plan.rate),
    "-d",
    String(plan.seconds),
    plan.url,
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`lab fan-out: autocannon exited with ${code}: ${err.trim()}`);
  const r = JSON.parse(out) as {
    requests: { total: number };
    latency: { p99: number };
    errors: number;
    timeouts: number;
    duration: number;
  };
  return {
    requests: r.requests.total,
    rate: r.requests.total / r.duration,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
  };
}
