// A deadline that crosses gRPC hops: the client's budget reaches the server, the server's handler
// gets a context that ends with it, and its own sleep stops there. No .proto file: the service
// is described in code with JSON messages. Run: `node --import tsx examples/grpc.ts`.
import * as grpc from "@grpc/grpc-js";
import { DeadlineExceeded, background, sleep, withTimeout } from "timebound";
import { unary, withContext } from "timebound/grpc";

interface Job {
  readonly ms: number;
}
const json = {
  requestSerialize: (value: Job) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as Job,
  responseSerialize: (value: Job) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as Job,
};
const service = {
  work: { path: "/demo.Worker/Work", requestStream: false, responseStream: false, ...json },
} satisfies grpc.ServiceDefinition;

let stoppedAfterMs: number | undefined;
const server = new grpc.Server();
server.addService(service, {
  // The handler's context ends with the caller's deadline: its sleep stops there too.
  work: withContext(async (ctx, call: grpc.ServerUnaryCall<Job, Job>) => {
    const start = performance.now();
    try {
      await sleep(ctx, call.request.ms);
    } finally {
      stoppedAfterMs = performance.now() - start;
    }
    return call.request;
  }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
    err ? reject(err) : resolve(p),
  ),
);
const Client = grpc.makeGenericClientConstructor(service, "Worker");
const client = new Client(
  `127.0.0.1:${port}`,
  grpc.credentials.createInsecure(),
) as unknown as grpc.Client & {
  work: (request: Job, callback: grpc.requestCallback<Job>) => grpc.ClientUnaryCall;
};

using fast = withTimeout(background(), 1_000, { name: "fast" });
console.log(`a 20 ms job: ${JSON.stringify(await unary(fast, client, "work", { ms: 20 }))}`);
try {
  using ctx = withTimeout(background(), 100, { name: "caller" });
  await unary(ctx, client, "work", { ms: 5_000 });
} catch (err) {
  if (err instanceof DeadlineExceeded) console.log(`a 5 s job: ${err.message}`);
}
await sleep(background(), 50);
console.log(`the server's handler stopped after ${Math.round(stoppedAfterMs ?? NaN)} ms`);
client.close();
server.forceShutdown();
