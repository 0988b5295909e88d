// Preloaded (node --import) into a proxy for the bench's allocation count. The first SIGUSR2
// starts V8's sampling heap profiler (a sample every 256 bytes on average, garbage that young
// and old collections took included, sizes scaled to estimate every byte); it prints
// "sampling" once on. The next SIGUSR2 stops it and prints "allocated <bytes>" on stdout.
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );

let sampling = false;
process.on("SIGUSR2", async () => {
  if (!sampling) {
    sampling = true;
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    console.log("sampling");
    return;
  }
  sampling = false;
  const { profile } = await post("HeapProfiler.stopSampling");
  let bytes = 0;
  const nodes = [profile.head];
  while (nodes.length > 0) {
    const node = nodes.pop();
    bytes += node.selfSize;
    nodes.push(...node.children);
  }
  console.log(`allocated ${bytes}`);
});
