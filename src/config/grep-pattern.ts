// grep-style image patterns: `/re/` or `/re/i`, a regular expression searched anywhere in each
// normalised name, like `grep -E` in the shell script this tool replaces (`grep -E '123456789012\.dkr\.ecr\.'`).
//
// Patterns come from values.yaml and the command line; the names they are matched against come from
// registries and pod authors. A backtracking engine (JavaScript's RegExp) can take exponential time
// on a pattern like `/(a+)+$/` and a long name, and would stall the agent with images half judged.
// RE2 (here re2js, a pure JavaScript port) matches in time linear in the name, whatever the pattern,
// and refuses what cannot be matched that way (backreferences, lookaround) at compile time.
import { RE2JS } from "re2js";
import { ConfigError } from "../errors.js";

/** Longer expressions are refused: no image name is this long, and RE2 programs grow with them. */
const MAX_LENGTH = 1000;

const SHAPE = /^\/(.+)\/(i?)$/s;

/** The expression and flags of a `/re/` pattern, or undefined for a glob (anything not starting with `/`). */
export function grepPatternBody(source: string): { body: string; flags: string } | undefined {
  if (!source.startsWith("/")) return undefined;
  const m = SHAPE.exec(source);
  return { body: m?.[1] ?? "", flags: m?.[2] ?? "" };
}

/**
 * Compiles a `/re/` or `/re/i` pattern to a test that searches a name; throws ConfigError naming
 * `key` and the pattern when it is not one.
 */
export function compileGrepPattern(key: string, source: string): (name: string) => boolean {
  const m = SHAPE.exec(source);
  if (m === null) {
    throw new ConfigError(
      key,
      source,
      "a pattern starting with / is a regular expression written /re/ or /re/i (i: ignore case), e.g. '/123456789012\\.dkr\\.ecr\\./'; a glob never starts with /",
    );
  }
  if (source.length > MAX_LENGTH) {
    throw new ConfigError(
      key,
      `${source.slice(0, 40)}... (${source.length} characters)`,
      `give a regular expression of at most ${MAX_LENGTH} characters`,
    );
  }
  const [, body = "", flags = ""] = m;
  let re: RE2JS;
  try {
    re = RE2JS.compile(body, flags === "i" ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    throw new ConfigError(
      key,
      source,
      `it is not a regular expression RE2 accepts (${(err as Error).message}); write /re/ or /re/i in grep -E syntax (no backreferences or lookaround)`,
    );
  }
  // `test` searches (like grep), it does not anchor: write ^ and $ to match whole names.
  return (name) => re.test(name);
}
