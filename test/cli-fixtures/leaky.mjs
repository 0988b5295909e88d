// A small leaky program using the built package, for `timebound diagnose -- node leaky.mjs`:
// "session" contexts that are never canceled, kept alive past the never-canceled threshold.
import { background, withCancel } from "timebound";

function openSession() {
  return withCancel(background(), { name: "session" });
}

const sessions = [1, 2, 3].map(() => openSession());
setTimeout(() => console.log(`sessions ${sessions.length}`), 400);
