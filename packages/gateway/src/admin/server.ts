// The admin port, apart from traffic: /healthz (the process answers), /readyz (it takes
// traffic: not draining), /metrics (Prometheus), /debug/timebound/ (timebound's diagnostics:
// contexts, operations, dumps, when tracking is on).
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { debugHandler } from "timebound/diagnostics";
import type { Registry } from "prom-client";

/** What the admin server reads. */
export interface AdminSource {
  readonly registry: Registry;
  /** False while draining (SIGTERM) or before the traffic port listens. */
  ready(): boolean;
}

/** A node:http server for the admin endpoints (not listening yet). */
export function createAdminServer(source: AdminSource): Server {
  const debug = debugHandler({ otherPaths: "404" });
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return text(res, 200, "ok\n");
    if (path === "/readyz") {
      return source.ready() ? text(res, 200, "ready\n") : text(res, 503, "not ready: draining\n");
    }
    if (path === "/metrics") {
      source.registry.metrics().then(
        (body) => text(res, 200, body, source.registry.contentType),
        (err: unknown) => text(res, 500, `metrics failed: ${String(err)}\n`),
      );
      return;
    }
    debug(req, res);
  });
}

function text(
  res: ServerResponse,
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
