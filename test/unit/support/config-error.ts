// The ConfigError a call throws, for tests that assert on its key, value and message; any other
// error is passed on, and a call that does not throw fails the test.
import { ConfigError } from "../../../src/errors.js";

export function configErrorOf(call: () => unknown): ConfigError {
  try {
    call();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("no ConfigError: the call succeeded");
}
