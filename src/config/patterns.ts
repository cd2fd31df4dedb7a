// Image reference normalisation and glob matching, shared by the agent (which images to delete)
// and the controller (which images pods on a node need).
//
// References are normalised the way docker and containerd do it, so a pattern or a protected
// image written the short way matches what the runtime reports the long way:
//   nginx                  -> docker.io/library/nginx:latest
//   nginx:1.25             -> docker.io/library/nginx:1.25
//   bitnami/redis:7        -> docker.io/bitnami/redis:7
//   index.docker.io/x/y:1  -> docker.io/x/y:1
//   quay.io/x/y:1, localhost:5000/y:1, registry.k8s.io/pause:3.10   unchanged (first part is a host)
//   nginx@sha256:abc...    -> docker.io/library/nginx@sha256:abc...
import { Minimatch } from "minimatch";
import { ConfigError } from "../errors.js";
import { compileGrepPattern, grepPatternBody } from "./grep-pattern.js";

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAINS = new Set(["index.docker.io", "registry-1.docker.io"]);
const GLOB_MAGIC = /[*?[\]{}()!+@]/;
const ID_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** CRI-O reports image ids as bare hex. Docker refuses 64-hex repository names, so it is never a name. */
const BARE_ID_PATTERN = /^[0-9a-f]{64}$/;

/** True for a content id, `sha256:<64 hex>` or the bare `<64 hex>` CRI-O uses (an id, not a name). */
export function isImageId(ref: string): boolean {
  return ID_PATTERN.test(ref) || BARE_ID_PATTERN.test(ref);
}

/** One spelling per id: `sha256:<hex>`, whether the runtime wrote the prefix or not. */
export function canonicalId(id: string): string {
  return BARE_ID_PATTERN.test(id) ? `sha256:${id}` : id;
}

/** Splits `host/path` when the first component names a registry host. */
function splitDomain(ref: string): { domain: string | undefined; path: string } {
  const slash = ref.indexOf("/");
  if (slash === -1) return { domain: undefined, path: ref };
  const first = ref.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") {
    return { domain: first, path: ref.slice(slash + 1) };
  }
  return { domain: undefined, path: ref };
}

/** The repository/name part has a tag (`:x` after the last `/`) or a digest (`@`). */
function hasTagOrDigest(path: string): boolean {
  const last = path.slice(path.lastIndexOf("/") + 1);
  return last.includes(":") || last.includes("@");
}

function withDefaultDomain(ref: string): string {
  const { domain, path } = splitDomain(ref);
  const host = domain === undefined || LEGACY_DOMAINS.has(domain) ? DEFAULT_DOMAIN : domain;
  // `nginx` is `library/nginx`; but `docker.io/**` spans every path and means all of Docker Hub.
  const official = host === DEFAULT_DOMAIN && !path.includes("/") && !path.includes("**");
  return `${host}/${official ? `library/${path}` : path}`;
}

/**
 * Normalises an image reference to its full form (see the file header). Image ids (`sha256:...`)
 * and runtime prefixes such as `docker-pullable://` (kubelet's containerStatuses.imageID) are handled.
 */
export function normaliseReference(ref: string): string {
  const bare = ref.replace(/^[a-z-]+:\/\//, "");
  if (isImageId(bare)) return canonicalId(bare);
  const full = withDefaultDomain(bare);
  return hasTagOrDigest(full.slice(full.indexOf("/") + 1)) ? full : `${full}:latest`;
}

/** What a pattern is for: include narrows nothing beyond what is written; exclude errs wide. */
export type PatternRole = "include" | "exclude";

/**
 * Normalises a glob pattern like a reference, except: a pattern that starts with glob magic
 * (`**\/nginx:*`) is taken as written, and a pattern with magic gets no implicit `:latest`
 * (`docker.io/acme/*` means every image of acme, not only `:latest` ones). A tagless exclude gets no
 * `:latest` either: it names a whole repository (see `firstMatch`). A bare 64-hex id is an id.
 */
export function normalisePattern(pattern: string, role: PatternRole = "include"): string {
  if (pattern.startsWith("sha256:")) return pattern;
  if (BARE_ID_PATTERN.test(pattern)) return canonicalId(pattern);
  if (GLOB_MAGIC.test(pattern.charAt(0))) return pattern;
  if (!GLOB_MAGIC.test(pattern.replace(/@sha256:/, ""))) {
    return role === "exclude" && !hasTagOrDigest(pattern.slice(pattern.lastIndexOf("/") + 1))
      ? withDefaultDomain(pattern)
      : normaliseReference(pattern);
  }
  return withDefaultDomain(pattern);
}

export interface ImagePattern {
  /** As given on the command line. */
  source: string;
  /** After normalisation; what is matched. */
  normalised: string;
  role: PatternRole;
  /** `glob` (minimatch, whole name) or `regex` (`/re/`, searched anywhere in the name, like grep -E). */
  kind: "glob" | "regex";
  /** Whether the pattern matches this normalised name (or id). */
  test: (text: string) => boolean;
  /** True when the pattern matches image ids (`sha256:...`), not names. */
  matchesId: boolean;
  /**
   * An exclude without tag or digest names repositories: it is also matched against each name
   * with its tag and digest cut off, so `registry/team/keep` keeps every tag and digest of it.
   */
  matchesRepository: boolean;
}

/** Characters a normalised reference can contain, plus minimatch's glob syntax. */
const PATTERN_ALPHABET = /^[A-Za-z0-9._\-/:@*?[\]{}(),!+|^]+$/;

/**
 * Why a normalised pattern can never match a normalised reference or an id, or undefined. Only
 * sure cases: a pattern refused here would have silently selected nothing.
 */
function neverMatches(normalised: string): string | undefined {
  if (!PATTERN_ALPHABET.test(normalised)) {
    return "it has characters no image reference contains (allowed: letters, digits, . _ - / : @ and glob syntax * ? [ ] { } ( ) ! + |)";
  }
  if (normalised.startsWith("sha256:")) {
    return /^sha256:[0-9a-f*?[\]{}(),!+|^-]*$/.test(normalised)
      ? undefined
      : "an image id is sha256: followed by lowercase hex";
  }
  if (!normalised.includes("/") && !normalised.includes("**")) {
    return "every normalised reference has a registry and a path (docker.io/library/nginx:1.25); use '**' for every image, or write the path, e.g. 'docker.io/acme/*'";
  }
  if (normalised.split("/").some((segment) => segment === "" || /^[:@]/.test(segment))) {
    return "it has an empty path segment";
  }
  const last = normalised.slice(normalised.lastIndexOf("/") + 1);
  const at = last.indexOf("@");
  const colon = last.indexOf(":");
  const repoEnd =
    normalised.length - last.length + (colon === -1 ? (at === -1 ? last.length : at) : colon);
  const { domain, path } = splitDomain(normalised.slice(0, repoEnd));
  const repository = domain === undefined ? normalised.slice(0, repoEnd) : path;
  if (/[A-Z]/.test(repository)) {
    return "repository names are lowercase (only a registry host or a tag may have capitals)";
  }
  if (at !== -1 && /[A-Z]/.test(last.slice(at))) return "digests are lowercase hex";
  return undefined;
}

/** Compiles patterns once; `key` names the option in errors. */
export function compilePatterns(
  key: string,
  patterns: readonly string[],
  role: PatternRole,
): ImagePattern[] {
  return patterns.map((source): ImagePattern => {
    if (source.trim() === "")
      throw new ConfigError(key, source, "give a non-empty glob such as 'docker.io/acme/*'");
    if (grepPatternBody(source) !== undefined) {
      // Searched in each normalised name as it is: no normalisation, no id, no repository form.
      const test = compileGrepPattern(key, source);
      return {
        source,
        normalised: source,
        role,
        kind: "regex",
        test,
        matchesId: false,
        matchesRepository: false,
      };
    }
    const normalised = normalisePattern(source, role);
    const why = neverMatches(normalised);
    if (why !== undefined) {
      throw new ConfigError(
        key,
        source,
        `it can never match an image (${normalised === source ? "" : `normalised to ${normalised}: `}${why})`,
      );
    }
    const matchesId = normalised.startsWith("sha256:");
    const last = normalised.slice(normalised.lastIndexOf("/") + 1);
    // Text, not a shell word: no comments, no leading-! negation (that is what --exclude is for).
    const matcher = new Minimatch(normalised, { dot: true, nocomment: true, nonegate: true });
    return {
      source,
      normalised,
      role,
      kind: "glob",
      test: (text) => matcher.match(text),
      matchesId,
      matchesRepository: role === "exclude" && !matchesId && !/[:@]/.test(last),
    };
  });
}

/** A normalised name without its tag and digest: `docker.io/acme/app:1@sha256:..` -> `docker.io/acme/app`. */
export function repositoryOf(normalisedName: string): string {
  const at = normalisedName.indexOf("@");
  const noDigest = at === -1 ? normalisedName : normalisedName.slice(0, at);
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/**
 * The first pattern that matches one of the names (each normalised) or, for patterns starting
 * with `sha256:`, the image id. A repository exclude also matches names by their repository.
 */
export function firstMatch(
  patterns: readonly ImagePattern[],
  names: readonly string[],
  id: string,
): { pattern: ImagePattern; name: string } | undefined {
  const normalised = names.map(normaliseReference);
  for (const pattern of patterns) {
    if (pattern.matchesId) {
      const canonical = canonicalId(id);
      if (pattern.test(canonical)) return { pattern, name: canonical };
      continue;
    }
    const name = normalised.find(
      (n) => pattern.test(n) || (pattern.matchesRepository && pattern.test(repositoryOf(n))),
    );
    if (name !== undefined) return { pattern, name };
  }
  return undefined;
}
