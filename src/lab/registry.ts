import { fanOut } from "./fan-out.js";
import { fetchSignal } from "./fetch-signal.js";
import { gatewayScenario } from "./gateway.js";
import { grpcDeadline } from "./grpc-deadline.js";
import { httpFetch } from "./http-fetch.js";
import { leakRate } from "./leak-rate.js";
import { missingCancel } from "./missing-cancel.js";
import { nestedDeadlines } from "./nested-deadlines.js";
import { pgQuery } from "./pg-query.js";
import { processTree } from "./process-tree.js";
import { redisBlocking } from "./redis-blocking.js";
import { threeTier } from "./three-tier.js";
import { timerRecursion } from "./timer-recursion.js";
import type { Scenario } from "./scenario.js";

/** @internal Every lab scenario, in the order `timebound lab` runs them. Add new ones here. */
export const scenarios: readonly Scenario[] = [
  missingCancel,
  nestedDeadlines,
  httpFetch,
  pgQuery,
  redisBlocking,
  grpcDeadline,
  processTree,
  timerRecursion,
  leakRate,
  fetchSignal,
  threeTier,
  fanOut,
  gatewayScenario,
];

/** @internal The scenario with this id, or undefined. */
export function findScenario(id: string): Scenario | undefined {
  return scenarios.find((s) => s.id === id);
}
