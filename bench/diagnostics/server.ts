// The service the diagnostics benchmark loads: node:http, and per request a deadline, a child
// context and a sleep(ctx, 0), as a handler that calls something would. Run as a child process
// so "diagnostics not imported" really means the module was never loaded:
//   node --import tsx bench/diagnostics/server.ts plain|off|on
// It prints its port on the first line of stdout.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { background, sleep, withCancel, withTimeout } from "../../src/index.js";

/** The three ways the benchmark runs the same service. */
export const MODES = ["plain", "off", "on"] as const;
export type Mode = (typeof MODES)[number];

const REQUEST_TIMEOUT_MS = 5_000;

async function main(mode: Mode): Promise<void> {
  if (mode !== "plain") {
    const diagnostics = await import("../../src/diagnostics/index.js");
    // No dump files, no signal handler: the benchmark measures the tracking, not the exit dump.
    if (mode === "on") diagnostics.track({ dumpSignal: false });
  }
  const server = createServer((req, res) => {
    void (async () => {
      using ctx = withTimeout(background(), REQUEST_TIMEOUT_MS, { name: "request" });
      using child = withCancel(ctx, { name: "lookup" });
      await sleep(child, 0);
      res.end("ok");
    })();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  process.on("SIGTERM", () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

const mode = process.argv[2] as Mode;
if (!MODES.includes(mode)) {
  console.error(
    `bench/diagnostics/server.ts: mode must be one of ${MODES.join(", ")}, got ${String(mode)}`,
  );
  process.exit(2);
}
await main(mode);
