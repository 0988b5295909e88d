// The lab's wrong variants race work against a plain timer; the one copy lives in src/testing
// (the gRPC testbed uses it too, and testing may not import the lab).
export { raceTimer } from "../testing/race-timer.js";
