// A program that starts a fault upstream, prints its pid as a JSON line, then waits to be killed
// (test/testing/fault-upstream.test.ts checks that the upstream does not outlive it).
import { startFaultUpstream } from "../../src/testing/fault-upstream.js";

const upstream = await startFaultUpstream({ hangRate: 1 });
process.stdout.write(`${JSON.stringify({ pid: upstream.pid, url: upstream.url })}\n`);
setInterval(() => {}, 1000);
