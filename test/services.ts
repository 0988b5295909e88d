/** Addresses of the servers scripts/test.mjs started for this run. */
function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} is not set: run the tests through scripts/test.mjs (npm test), which starts ` +
        "PostgreSQL and Redis on loopback ports for them",
    );
  }
  return value;
}

/** `postgres://postgres@127.0.0.1:port/postgres` of the test run's PostgreSQL. */
export function pgUrl(): string {
  return required("TIMEBOUND_TEST_PG_URL");
}

/** `redis://127.0.0.1:port` of the test run's Redis. */
export function redisUrl(): string {
  return required("TIMEBOUND_TEST_REDIS_URL");
}
