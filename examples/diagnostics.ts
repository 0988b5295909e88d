// What diagnostics finds in a program that forgets to cancel: a dump grouped by creation stack,
// like Go's goroutine dump. In a real program, turn tracking on without code:
// `node --import timebound/register app.js`, or `npx timebound diagnose -- node app.js`.
// Run: `node --import tsx examples/diagnostics.ts`.
import { type Context, background, withCancel, withTimeout } from "timebound";
import { toTextReport, track } from "timebound/diagnostics";

const tracking = track({ neverCanceledMs: 0 }); // report contexts live for any time at all

/** ❌ The lost cancel: a child of the server's context, never canceled. */
function leakyHandler(server: Context): void {
  // eslint-disable-next-line timebound/no-lost-cancel -- the lost cancel this example shows
  const ctx = withCancel(server, { name: "request" });
  void ctx.done; // something waits on it, for ever
}

/** ✅ The same with `using`: canceled when the handler returns. */
function handler(server: Context): void {
  using ctx = withTimeout(server, 1_000, { name: "request" });
  void ctx.done;
}

const server = withCancel(background(), { name: "server" });
for (let i = 0; i < 100; i++) {
  leakyHandler(server);
  handler(server);
}
const report = toTextReport(tracking.snapshot(), { debug: 1 });
console.log(report.split("\n").slice(0, 12).join("\n"));
server.cancel();
tracking.stop();
