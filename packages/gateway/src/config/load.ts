// Reads a gateway configuration: YAML (or JSON, which is YAML) checked against
// gateway.schema.json, then against what a schema cannot say (an upstream a route names must
// exist), then completed with defaults. Every problem is reported at once, with its path and line.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Ajv, type ErrorObject } from "ajv";
import { LineCounter, parseDocument, type Document, type Node } from "yaml";
import { ConfigError, type ConfigProblem } from "./errors.js";
import type {
  AggregatePartConfig,
  FallbackConfig,
  GatewayConfig,
  RateLimitConfig,
  RouteConfig,
  StaticResponseConfig,
  UpstreamConfig,
} from "./types.js";

// Read at run time, not imported: the schema ships beside dist/ for editors, in one copy.
const schema = JSON.parse(
  readFileSync(new URL("../../schema/gateway.schema.json", import.meta.url), "utf8"),
) as object;
const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  strictRequired: false, // `oneOf: [{ required: [upstream] }, { required: [aggregate] }]`
  allowUnionTypes: true,
  verbose: true, // the value found, for messages
});
const validate = ajv.compile(schema);

/** Reads and checks the configuration file at `file`; rejects with a {@link ConfigError}. */
export async function loadConfigFile(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(file, [
      { path: "", line: undefined, message: `cannot read the file (${reason})` },
    ]);
  }
  return parseConfig(text, file);
}

/**
 * Checks a configuration given as YAML text (`source` names it in messages) or as an object
 * already parsed, and returns it with every default filled in. Throws a {@link ConfigError}
 * listing every problem.
 */
export function parseConfig(input: string | object, source = "config"): GatewayConfig {
  const lines = new LineCounter();
  let doc: Document | undefined;
  let value: unknown = input;
  if (typeof input === "string") {
    doc = parseDocument(input, { lineCounter: lines, prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        source,
        doc.errors.map((e) => ({
          path: "",
          line: e.linePos?.[0].line,
          message: `not valid YAML: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
        })),
      );
    }
    value = doc.toJS();
  }
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    const node = doc?.getIn(path, true) as Node | undefined;
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  // A copy: ajv fills defaults in place, and the caller's object is theirs.
  const config = structuredClone(value) as Raw;
  if (!validate(config)) {
    throw new ConfigError(source, schemaProblems(validate.errors ?? [], lineOf));
  }
  const problems = semanticProblems(config, lineOf);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return complete(config);
}

// The document as the schema guarantees it (defaults filled in by ajv).
interface Raw {
  listen: { host: string; port: number };
  admin?: { host: string; port: number };
  limits?: {
    maxHeaderBytes: number;
    maxBodyBytes: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
  };
  deadline?: { headers: string[] };
  shutdown?: { drainMs: number };
  redis?: { url: string; keyPrefix: string; timeoutMs: number };
  upstreams: Record<string, RawUpstream>;
  routes: RawRoute[];
}
interface RawUpstream {
  targets: string[];
  balance: "round-robin" | "least-request";
  connections: number;
  idleTimeoutMs: number;
  grpc: boolean;
  outlierDetection?: { consecutiveFailures: number; ejectMs: number };
  healthCheck?: { path: string; intervalMs: number; timeoutMs: number };
}
interface RawRoute {
  name?: string;
  path: string;
  methods?: string[];
  host?: string;
  upstream?: string;
  rewrite?: { stripPrefix?: string; addPrefix?: string };
  timeoutMs: number;
  attemptTimeoutMs?: number;
  retry?: Record<string, unknown> & { nonIdempotent?: boolean };
  circuitBreaker?: Record<string, unknown>;
  bulkhead?: Record<string, unknown>;
  adaptiveConcurrency?: Record<string, unknown>;
  hedge?: Record<string, unknown>;
  fallback?: {
    staleMaxAgeMs?: number;
    status?: number;
    headers?: Record<string, string>;
    json?: unknown;
    body?: string;
  };
  rateLimit?: { ratePerSecond: number; burst?: number; key: string; shared: boolean };
  maxBodyBytes?: number;
  aggregate?: Record<string, { upstream: string; path: string; required: boolean; weight: number }>;
  websocket?: { maxLifetimeMs: number };
  hostHeader: "upstream" | "preserve";
}

const DEFAULT_LIMITS = {
  maxHeaderBytes: 16_384,
  maxBodyBytes: 10_485_760,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};
const DEFAULT_DEADLINE_HEADERS = [
  "timebound-timeout",
  "grpc-timeout",
  "x-envoy-expected-rq-timeout-ms",
];

function pathText(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else
      out += /^[A-Za-z_$][\w$]*$/.test(s) ? (out === "" ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
  }
  return out;
}

function segmentsOf(instancePath: string): (string | number)[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function schemaProblems(
  errors: readonly ErrorObject[],
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): ConfigProblem[] {
  // A route's `oneOf` (upstream or aggregate) says it in one sentence; its branches' "missing
  // upstream" and "missing aggregate" only repeat it.
  const useful = errors.filter((e) => !/\/oneOf\/\d+\//.test(e.schemaPath));
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of useful) {
    const segments = segmentsOf(e.instancePath);
    let message: string;
    switch (e.keyword) {
      case "additionalProperties": {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        segments.push(key);
        message = "unknown option (misspelt?)";
        break;
      }
      case "required":
        message = `missing ${(e.params as { missingProperty: string }).missingProperty}`;
        break;
      case "enum":
        message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(shown).join(", ")}, got ${shown(e.data)}`;
        break;
      case "oneOf":
        message =
          "a route needs exactly one of `upstream` (a proxy route) or `aggregate` (an aggregation route)";
        break;
      default:
        message = `${e.message ?? "is invalid"}, got ${shown(e.data)}`;
    }
    const key = `${pathText(segments)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: pathText(segments), line: lineOf(segments), message });
  }
  return out;
}

function semanticProblems(
  c: Raw,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const problem = (segments: (string | number)[], message: string) =>
    out.push({ path: pathText(segments), line: lineOf(segments), message });
  const names = Object.keys(c.upstreams);
  const known = `known upstreams: ${names.join(", ")}`;
  if (
    c.admin !== undefined &&
    c.admin.port !== 0 &&
    c.admin.port === c.listen.port &&
    c.admin.host === c.listen.host
  ) {
    problem(
      ["admin", "port"],
      `must differ from listen.port (${c.listen.port}): the admin port is kept apart from traffic`,
    );
  }
  for (const [name, u] of Object.entries(c.upstreams)) {
    u.targets.forEach((t, i) => {
      try {
        new URL(t);
      } catch {
        problem(["upstreams", name, "targets", i], `not a valid URL, got ${shown(t)}`);
      }
    });
  }
  const routeKeys = new Map<string, number>();
  c.routes.forEach((r, i) => {
    if (r.upstream !== undefined && !(r.upstream in c.upstreams)) {
      problem(["routes", i, "upstream"], `no upstream named ${shown(r.upstream)} (${known})`);
    }
    for (const [part, p] of Object.entries(r.aggregate ?? {})) {
      if (!(p.upstream in c.upstreams)) {
        problem(
          ["routes", i, "aggregate", part, "upstream"],
          `no upstream named ${shown(p.upstream)} (${known})`,
        );
      }
    }
    if (r.aggregate !== undefined && !Object.values(r.aggregate).some((p) => p.required)) {
      problem(["routes", i, "aggregate"], "needs at least one required part (all are optional)");
    }
    if (r.rewrite?.stripPrefix !== undefined && !r.path.startsWith(r.rewrite.stripPrefix)) {
      problem(
        ["routes", i, "rewrite", "stripPrefix"],
        `${shown(r.rewrite.stripPrefix)} is not a prefix of the route's path ${shown(r.path)}`,
      );
    }
    if (r.rateLimit?.shared === true && c.redis === undefined) {
      problem(
        ["routes", i, "rateLimit", "shared"],
        "a shared rate limit needs `redis.url` at the top level",
      );
    }
    if (r.attemptTimeoutMs !== undefined && r.attemptTimeoutMs > r.timeoutMs) {
      problem(
        ["routes", i, "attemptTimeoutMs"],
        `${r.attemptTimeoutMs} is longer than the route's timeoutMs (${r.timeoutMs})`,
      );
    }
    if (
      r.fallback !== undefined &&
      r.fallback.staleMaxAgeMs === undefined &&
      r.fallback.status === undefined
    ) {
      problem(
        ["routes", i, "fallback"],
        "needs `status` (a static answer) or `staleMaxAgeMs` (the last good answer), or both",
      );
    }
    if (r.fallback?.json !== undefined && r.fallback.body !== undefined) {
      problem(["routes", i, "fallback"], "has both `json` and `body`: give one");
    }
    for (const method of r.methods ?? ["*"]) {
      const key = `${r.host ?? "*"} ${method} ${r.path}`;
      const first = routeKeys.get(key);
      if (first !== undefined) {
        problem(
          ["routes", i, "path"],
          `routes[${first}] already matches ${method === "*" ? "every method" : method} ${r.path}${r.host === undefined ? "" : ` on ${r.host}`}`,
        );
      } else routeKeys.set(key, i);
    }
  });
  return out;
}

function staticResponse(f: NonNullable<RawRoute["fallback"]>): StaticResponseConfig | undefined {
  if (f.status === undefined) return undefined;
  const isJson = f.body === undefined;
  return {
    status: f.status,
    headers: f.headers ?? {},
    body: isJson ? JSON.stringify(f.json ?? null) : f.body!,
    contentType: isJson ? "application/json" : "text/plain; charset=utf-8",
  };
}

function complete(c: Raw): GatewayConfig {
  const limits = { ...DEFAULT_LIMITS, ...c.limits };
  const upstreams = new Map<string, UpstreamConfig>();
  for (const [name, u] of Object.entries(c.upstreams)) {
    upstreams.set(name, {
      name,
      targets: u.targets.map((t) => new URL(t).origin),
      balance: u.balance,
      connections: u.connections,
      idleTimeoutMs: u.idleTimeoutMs,
      grpc: u.grpc,
      outlier: u.outlierDetection,
      healthCheck: u.healthCheck,
    });
  }
  const routes: RouteConfig[] = c.routes.map((r, index) => {
    const { nonIdempotent, ...retry } = r.retry ?? {};
    const fallback: FallbackConfig | undefined =
      r.fallback === undefined
        ? undefined
        : { staleMaxAgeMs: r.fallback.staleMaxAgeMs, response: staticResponse(r.fallback) };
    const rateLimit: RateLimitConfig | undefined =
      r.rateLimit === undefined
        ? undefined
        : {
            ratePerSecond: r.rateLimit.ratePerSecond,
            burst: r.rateLimit.burst ?? Math.max(1, Math.ceil(r.rateLimit.ratePerSecond)),
            key:
              r.rateLimit.key === "ip"
                ? { kind: "ip" }
                : { kind: "header", name: r.rateLimit.key.slice("header:".length).toLowerCase() },
            shared: r.rateLimit.shared,
          };
    const aggregate: AggregatePartConfig[] | undefined =
      r.aggregate === undefined
        ? undefined
        : Object.entries(r.aggregate).map(([name, p]) => ({ name, ...p }));
    return {
      index,
      name: r.name ?? `${r.methods?.join(",") ?? "*"} ${r.path}`,
      path: r.path,
      methods: r.methods,
      host: r.host?.toLowerCase(),
      upstream: r.upstream,
      rewrite: r.rewrite,
      timeoutMs: r.timeoutMs,
      attemptTimeoutMs: r.attemptTimeoutMs,
      retry: r.retry === undefined ? undefined : retry,
      retryNonIdempotent: nonIdempotent === true,
      circuitBreaker: r.circuitBreaker,
      bulkhead: r.bulkhead,
      adaptiveConcurrency: r.adaptiveConcurrency,
      hedge: r.hedge,
      fallback,
      rateLimit,
      maxBodyBytes: r.maxBodyBytes ?? limits.maxBodyBytes,
      aggregate,
      websocket: r.websocket,
      hostHeader: r.hostHeader,
    };
  });
  return {
    listen: c.listen,
    admin: c.admin,
    limits,
    deadline: { headers: c.deadline?.headers ?? DEFAULT_DEADLINE_HEADERS },
    shutdown: { drainMs: c.shutdown?.drainMs ?? 10_000 },
    redis: c.redis,
    upstreams,
    routes,
  };
}
