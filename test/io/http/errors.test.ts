// timebound/http's errors in the library's error model: a stable code, the name from the
// prototype, and an identity that survives a second copy of the module (the ESM and CJS builds).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTimeboundError } from "../../../src/index.js";
import {
  ClientDisconnectedError,
  RESPONSE_FINISHED,
  ResponseFinishedError,
} from "../../../src/io/http/index.js";
import { CLIENT_DISCONNECTED } from "../../../src/io/http/errors.js";
import type * as ErrorsModule from "../../../src/io/http/errors.js";

/** The module again, as a second copy of timebound would load it: its classes are new objects. */
const SECOND_COPY = new URL("../../../src/io/http/errors.ts?second-copy", import.meta.url).href;

describe("timebound/http's errors", () => {
  it("ClientDisconnectedError: its name and code", () => {
    const err = new ClientDisconnectedError();
    assert.equal(err.name, "ClientDisconnectedError");
    assert.equal(err.code, "TIMEBOUND_ERR_CLIENT_DISCONNECTED");
    assert.equal(err.message, "the client disconnected before the response was finished");
    assert.ok(err.stack?.startsWith("ClientDisconnectedError: the client"), "stack header");
    assert.equal(isTimeboundError(err), true);
    assert.equal(CLIENT_DISCONNECTED.code, "TIMEBOUND_ERR_CLIENT_DISCONNECTED", "the shared one");
  });

  it("ResponseFinishedError: its name and code", () => {
    assert.ok(RESPONSE_FINISHED instanceof ResponseFinishedError, "the shared cause");
    assert.equal(RESPONSE_FINISHED.name, "ResponseFinishedError");
    assert.equal(RESPONSE_FINISHED.code, "TIMEBOUND_ERR_RESPONSE_FINISHED");
    assert.equal(isTimeboundError(RESPONSE_FINISHED), true);
    assert.equal(RESPONSE_FINISHED instanceof ClientDisconnectedError, false, "classes kept apart");
  });

  it("is recognised across two copies of the module, and the classes stay apart", async () => {
    const other = (await import(SECOND_COPY)) as typeof ErrorsModule;
    assert.notEqual(other.ClientDisconnectedError, ClientDisconnectedError, "a second copy");
    assert.ok(other.CLIENT_DISCONNECTED instanceof ClientDisconnectedError, "its disconnect");
    assert.ok(other.RESPONSE_FINISHED instanceof ResponseFinishedError, "its finish");
    assert.ok(CLIENT_DISCONNECTED instanceof other.ClientDisconnectedError, "and back");
    assert.equal(other.RESPONSE_FINISHED instanceof ClientDisconnectedError, false);
    assert.equal(other.CLIENT_DISCONNECTED.code, CLIENT_DISCONNECTED.code);
  });
});
