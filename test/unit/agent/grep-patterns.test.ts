// grep-style `/re/` patterns: searched anywhere in each normalised name, in include and exclude,
// refused with the key and the value named when RE2 cannot compile them, and linear in time.
import { describe, expect, it } from "vitest";
import { expectRefused } from "../support/refused-pattern.js";
import { compilePatterns, firstMatch, type PatternRole } from "../../../src/config/patterns.js";

const ID = `sha256:${"ab".repeat(32)}`;
const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/frontend:1.4";

const covers = (role: PatternRole, pattern: string, name: string) =>
  firstMatch(compilePatterns(`--${role}`, [pattern], role), [name], ID) !== undefined;

describe("grep-style /re/ patterns", () => {
  (
    [
      // The ancestor's ECR account-id pattern: anywhere in the name, like grep -E.
      ["/123456789012\\.dkr\\.ecr\\./", ECR, true],
      ["/123456789012\\.dkr\\.ecr\\./", "210987654321.dkr.ecr.eu-west-1.amazonaws.com/x:1", false],
      // Dots are any character unless escaped, as in grep.
      ["/123456789012.dkr/", "123456789012xdkr.example/x:1", true],
      // An include sees the normalised name: a short name has its registry and library/.
      ["/^docker\\.io\\/library\\/nginx:/", "nginx:1.25", true],
      // Slashes need no escape inside.
      ["/acme/app:/", "quay.io/acme/app:1", true],
      // Case: exact without the flag, either case with /i.
      ["/Frontend/", ECR, false],
      ["/Frontend/i", ECR, true],
      // Anchors: ^ and $ are the whole name.
      ["/:1\\.4$/", ECR, true],
      ["/:1$/", ECR, false],
      // Alternation and classes (grep -E syntax).
      ["/shop\\/(frontend|backend):[0-9]+\\.[0-9]+$/", ECR, true],
      // Digests are part of the name.
      [`/@sha256:ab/`, `quay.io/acme/app@${ID}`, true],
    ] as [string, string, boolean][]
  ).forEach(([pattern, name, want]) => {
    for (const role of ["include", "exclude"] as PatternRole[]) {
      it(`${role} ${pattern} ${want ? "covers" : "does not cover"} ${name}`, () => {
        expect(covers(role, pattern, name)).toBe(want);
      });
    }
  });

  it("in an include sees only normalised names; in an exclude the familiar name too (it errs wide)", () => {
    expect(covers("include", "/^nginx:/", "nginx:1.25")).toBe(false);
    expect(covers("include", "/^nginx:/", "docker.io/library/nginx:1.25")).toBe(false);
    expect(covers("exclude", "/^nginx:/", "nginx:1.25")).toBe(true);
    expect(covers("exclude", "/^nginx:/", "docker.io/library/nginx:1.25")).toBe(true);
    expect(covers("exclude", "/^nginx$/", "docker.io/library/nginx:1.25")).toBe(true);
    expect(covers("exclude", "/^acme\\/app:1$/", "docker.io/acme/app:1")).toBe(true);
    expect(covers("exclude", "/^nginx/", "quay.io/nginx/x:1")).toBe(false);
  });

  it("in an include does not match the image id (ids are matched by sha256: globs)", () => {
    expect(firstMatch(compilePatterns("--include", ["/ab/"], "include"), [], ID)).toBeUndefined();
  });

  it("names the pattern as given in an exclude's reason", () => {
    const got = firstMatch(
      compilePatterns("--exclude", ["/\\.dkr\\.ecr\\./"], "exclude"),
      [ECR],
      ID,
    );
    expect(got?.pattern.source).toBe("/\\.dkr\\.ecr\\./");
    expect(got?.pattern.kind).toBe("regex");
    expect(got?.name).toBe(ECR);
  });

  it("mixes with globs in one list, the first matching pattern winning", () => {
    const got = firstMatch(
      compilePatterns("--include", ["quay.io/other/*", "/shop\\//", "**"], "include"),
      [ECR],
      ID,
    );
    expect(got?.pattern.source).toBe("/shop\\//");
  });

  (
    [
      ["/(a/", /missing closing \)/],
      ["/a)/", /unexpected \)|missing argument|unmatched/],
      ["/[a/", /missing closing \]/],
      ["/*a/", /missing argument to repetition operator/],
      // JavaScript-only syntax RE2 refuses: no backtracking constructs.
      ["/(?=a)b/", /invalid or unsupported Perl syntax/],
      ["/(a)\\1/", /invalid escape sequence/],
      ["/a/g", /written \/re\/ or \/re\/i/],
      ["//", /written \/re\/ or \/re\/i/],
      ["/a", /written \/re\/ or \/re\/i/],
    ] as [string, RegExp][]
  ).forEach(([pattern, why]) => {
    for (const role of ["include", "exclude"] as PatternRole[]) {
      it(`refuses --${role} ${pattern}, naming key and value`, () => {
        expectRefused(role, pattern, why);
      });
    }
  });

  it("refuses an expression longer than 1000 characters, without echoing all of it", () => {
    const long = `/${"a".repeat(1200)}/`;
    expect(() => compilePatterns("--include", [long], "include")).toThrow(
      /invalid --include: given "\/a{39}\.\.\. \(1202 characters\)"; give a regular expression of at most 1000 characters/,
    );
  });

  it("matches in linear time: a pattern that makes a backtracking engine explode stays fast", () => {
    // `(a+)+$` on "aaaa...!" takes JavaScript's RegExp 2^n steps: at n = 20 a good part of a second, each
    // further "a" doubling it. RE2 walks the name once.
    const name = `docker.io/acme/${"a".repeat(50_000)}!:1`;
    const [pattern] = compilePatterns("--include", ["/(a+)+$/"], "include");
    const [nested] = compilePatterns("--include", ["/^(([a-z])+.)+[A-Z]([a-z])+$/"], "include");
    const started = performance.now();
    expect(pattern?.test(name)).toBe(false);
    expect(nested?.test(name)).toBe(false);
    const tookMs = performance.now() - started;
    expect(tookMs).toBeLessThan(2000);
    // What the same pattern costs a backtracking engine on a far shorter name: proof the input is
    // a catastrophic one, so the bound above is not met by luck.
    const backtracking = /(a+)+$/;
    const shortName = `${"a".repeat(20)}!`;
    const t0 = performance.now();
    backtracking.test(shortName);
    const jsMs = performance.now() - t0;
    const [re2] = compilePatterns("--include", ["/(a+)+$/"], "include");
    const t1 = performance.now();
    re2?.test(shortName);
    expect(performance.now() - t1).toBeLessThan(jsMs);
  });
});
