// Every TypeScript example a user reads compiles: the TSDoc @example blocks of the public API
// (src/, but the lab and the CLI) and the ```ts blocks of the README, each as a module of its own
// under `module: nodenext`, all in one TypeScript program (see examples.ts).
import assert from "node:assert/strict";
import { join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import {
  describeFailures,
  extractExamples,
  extractMarkdownExamples,
  sourceFiles,
  typecheckExamples,
} from "./examples.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Internal tools, not the public API: their comments are for the project's own readers. */
const NOT_PUBLIC = ["src/lab/", "src/cli/"];

/** A type of one of the package's own modules, for the examples of internal modules. */
function own(file: string, type: string): string {
  return `import(${JSON.stringify(join(ROOT, file).replace(/\.ts$/, ".js"))}).${type}`;
}

const GRPC = 'import("@grpc/grpc-js")';
const CONTEXT = 'import("timebound").Context';
/** An application's own async function: `handle(ctx, job)`, `listItems(ctx)`... */
const APP_FUNCTION = "(...args: unknown[]) => Promise<unknown>";

/** The shapes of generated gRPC clients (proto-loader-gen-types): overloads, shortest last. */
const STOCK = "{ sku: string; count: number }";
const INVENTORY_CLIENT = `${GRPC}.Client & {
  getStock(request: { sku: string }, options: ${GRPC}.CallOptions, callback: ${GRPC}.requestCallback<${STOCK}>): ${GRPC}.ClientUnaryCall;
  getStock(request: { sku: string }, callback: ${GRPC}.requestCallback<${STOCK}>): ${GRPC}.ClientUnaryCall;
}`;
const POINT = "{ latitude: number; longitude: number }";
const FEATURE = `{ name: string; location: ${POINT} }`;
const RECTANGLE = `{ lo: ${POINT}; hi: ${POINT} }`;
const ROUTE_CLIENT = `${GRPC}.Client & {
  listFeatures(request: ${RECTANGLE}): ${GRPC}.ClientReadableStream<${FEATURE}>;
  recordRoute(callback: ${GRPC}.requestCallback<{ pointCount: number }>): ${GRPC}.ClientWritableStream<${POINT}>;
}`;
const CHAT_CLIENT = `${GRPC}.Client & {
  talk(): ${GRPC}.ClientDuplexStream<{ text: string }, { text: string; last: boolean }>;
}`;
const FILES_CLIENT = `${GRPC}.Client & {
  upload(callback: ${GRPC}.requestCallback<{ size: number }>): ${GRPC}.ClientWritableStream<{ data: Uint8Array }>;
}`;
const PRICING_CLIENT = `${GRPC}.Client & {
  getPrice(request: { sku: string }, callback: ${GRPC}.requestCallback<{ cents: number }>): ${GRPC}.ClientUnaryCall;
}`;
const GREETER_CLIENT = `${GRPC}.Client & {
  sayHello(request: { name: string }, options: ${GRPC}.CallOptions, callback: ${GRPC}.requestCallback<{ message: string }>): ${GRPC}.ClientUnaryCall;
  sayHello(request: { name: string }, callback: ${GRPC}.requestCallback<{ message: string }>): ${GRPC}.ClientUnaryCall;
}`;

/** What the examples use without declaring: the context, clients, requests of the situation. */
const DECLARATIONS: Record<string, string> = {
  ctx: CONTEXT,
  parent: CONTEXT,
  tracking: 'import("timebound/diagnostics").Tracking',
  pool: 'import("pg").Pool',
  client: 'import("ioredis").Redis',
  observer: 'import("ioredis").Redis',
  server: 'import("node:http").Server',
  app: 'import("express").Express',
  req: 'import("node:http").IncomingMessage',
  res: 'import("node:http").ServerResponse',
  socket: 'import("node:net").Socket',
  log: "Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void>",
  metrics: "Record<'gauge' | 'observe', (name: string, value: number, labels?: object) => void>",
  deadLetters: "{ save(item: object): void; push(item: object): void }",
  saveSomewhere: "(...data: unknown[]) => void",
  handle: APP_FUNCTION,
  work: APP_FUNCTION,
  listItems: APP_FUNCTION,
  lookUp: APP_FUNCTION,
  fetchOne: APP_FUNCTION,
  cleanup: APP_FUNCTION,
  retryLater: APP_FUNCTION,
  useSocket: APP_FUNCTION,
  tryOnce: `(ctx: ${CONTEXT}) => Promise<boolean>`,
  audit: `{ write(ctx: ${CONTEXT}, entry: object): Promise<void> }`,
  entry: "object",
  user: "{ id: string; name: string }",
  job: "{ id: string }",
  ids: "string[]",
  sku: "string",
  userId: "string",
  path: "string",
  file: "string",
  logFile: "string",
  repo: "string",
  json: "string",
  url: "string",
  // Node's and the drivers' modules, as the examples' own imports would bring them.
  http: 'typeof import("node:http")',
  writeFile: 'typeof import("node:fs/promises").writeFile',
  readFile: 'typeof import("node:fs/promises").readFile',
  writeFileSync: 'typeof import("node:fs").writeFileSync',
  createReadStream: 'typeof import("node:fs").createReadStream',
  createWriteStream: 'typeof import("node:fs").createWriteStream',
  createGzip: 'typeof import("node:zlib").createGzip',
  test: 'typeof import("node:test").test',
  it: 'typeof import("node:test").it',
  after: 'typeof import("node:test").after',
  beforeEach: 'typeof import("node:test").beforeEach',
  afterEach: 'typeof import("node:test").afterEach',
  assert: 'typeof import("node:assert/strict")',
  express: 'typeof import("express")',
  Fastify: 'typeof import("fastify").default',
  pg: 'typeof import("pg")',
  Redis: 'typeof import("ioredis").Redis',
  Cluster: 'typeof import("ioredis").Cluster',
  // gRPC: a server, the generated clients of the examples' services.
  inventoryClient: INVENTORY_CLIENT,
  routeClient: ROUTE_CLIENT,
  address: "string",
  credentials: `${GRPC}.ChannelCredentials`,
  Greeter: `new (address: string, credentials: ${GRPC}.ChannelCredentials, options?: ${GRPC}.ClientOptions) => ${GREETER_CLIENT}`,
};

/** Declarations for the examples of some files: what `client`, `server`, `app` are there. */
const SCOPED: Record<string, Record<string, string>> = {
  "src/io/grpc/": {
    client: INVENTORY_CLIENT,
    server: `${GRPC}.Server`,
    service: `${GRPC}.ServiceDefinition`,
    getStock: `import("timebound/grpc").ContextHandler<${GRPC}.ServerUnaryCall<{ sku: string }, ${STOCK}>, ${STOCK}>`,
    lookUp: `(ctx: ${CONTEXT}, sku: string) => Promise<${STOCK}>`,
    pricing: PRICING_CLIENT,
    files: FILES_CLIENT,
    chatClient: CHAT_CLIENT,
    area: RECTANGLE,
    route: `${POINT}[]`,
  },
  "src/io/pg/": {
    client: 'import("pg").Client',
    transfer: APP_FUNCTION,
  },
  // Internal modules' own examples.
  "src/io/pg/cancel-request.ts": {
    client: own("src/io/pg/driver.ts", "DriverClient"),
    pid: "number",
    key: "number",
  },
  "src/io/race.ts": {
    client: 'import("pg").Client',
    sql: "string",
    cancelBackend: APP_FUNCTION,
  },
  "src/diagnostics/snapshot.ts": { source: own("src/diagnostics/snapshot.ts", "SnapshotSource") },
  "src/io/http/fastify": { app: 'import("fastify").FastifyInstance' },
};

/** Type names the examples use without defining: the application's own data. */
const TYPES: Record<string, string> = {
  Job: "{ id: string }",
  User: "{ id: string; name: string }",
  StockRequest: "{ sku: string }",
  Stock: STOCK,
  Feature: FEATURE,
  Chunk: "{ data: Uint8Array }",
  Receipt: "{ size: number }",
  QuoteRequest: "{ sku: string }",
  Quote: "{ sku: string; price: { cents: number } }",
  InventoryClient: INVENTORY_CLIENT,
  RouteGuideClient: ROUTE_CLIENT,
};

const publicFiles = sourceFiles(join(ROOT, "src")).filter(
  (file) => !NOT_PUBLIC.some((dir) => relative(ROOT, file).startsWith(dir)),
);

describe("examples: every TypeScript example of the docs compiles (module: nodenext)", () => {
  const tsdoc = extractExamples(publicFiles);
  const readme = extractMarkdownExamples([join(ROOT, "README.md")]);

  it("finds the examples of every entry point and of the README", () => {
    assert.ok(tsdoc.length >= 180, `only ${tsdoc.length} TSDoc examples found`);
    assert.ok(readme.length >= 10, `only ${readme.length} README examples found`);
    for (const dir of ["core", "sync", "io/http", "io/pg", "io/redis", "io/grpc", "io/process"]) {
      const found = tsdoc.some((e) => relative(ROOT, e.file).startsWith(`src/${dir}/`));
      assert.ok(found, `no example found in src/${dir}`);
    }
  });

  it("each one typechecks as a module of its own", () => {
    const failures = typecheckExamples([...tsdoc, ...readme], {
      root: ROOT,
      declarations: DECLARATIONS,
      scoped: SCOPED,
      types: TYPES,
    });
    assert.equal(failures.length, 0, `\n${describeFailures(failures, ROOT)}`);
  });
});
