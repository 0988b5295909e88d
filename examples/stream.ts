// A stream pipeline under a deadline: every stage is destroyed when it passes.
// Run: `node --import tsx examples/stream.ts`.
import { Readable, Writable } from "node:stream";
import { DeadlineExceeded, background, withTimeout } from "timebound";
import { pipeline } from "timebound/stream";

async function* slowRows(): AsyncGenerator<string> {
  for (let i = 0; ; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    yield `row ${i}\n`;
  }
}

let received = 0;
const sink = new Writable({
  write(_chunk, _encoding, done) {
    received++;
    done();
  },
});
const source = Readable.from(slowRows());
try {
  using ctx = withTimeout(background(), 150, { name: "export" });
  await pipeline(ctx, source, sink);
} catch (err) {
  if (err instanceof DeadlineExceeded) console.log(`export stopped: ${err.message}`);
}
// The caller is released at the deadline; the stages are destroyed on the next microtask.
await new Promise((resolve) => setImmediate(resolve));
console.log(
  `rows written: ${received}; source destroyed: ${source.destroyed}, sink destroyed: ${sink.destroyed}`,
);
