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

/** An id pattern shorter than this is refused: `crictl images` prints 13 hex digits, docker 12. */
export const SHORT_ID_MIN_HEX = 12;
const SHORT_ID = new RegExp(`^sha256:[0-9a-f]{${SHORT_ID_MIN_HEX},63}$`);
const BARE_SHORT_ID = new RegExp(`^[0-9a-f]{${SHORT_ID_MIN_HEX},63}$`);

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
  /**
   * Excludes that name a digest (`sha256:<hex>`, `name@sha256:<hex>`, a short id): where the client
   * cannot tell an image's manifest digest, an unresolved digest exclude keeps it (see
   * `digestUnknownMatch`). `repository` tests the normalised repository the pattern names, if any.
   */
  digest?: { repository?: (repository: string) => boolean };
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
    if (!/^sha256:[0-9a-f*?[\]{}(),!+|^-]*$/.test(normalised))
      return "an image id is sha256: followed by lowercase hex";
    if (!GLOB_MAGIC.test(normalised) && !SHORT_ID.test(normalised) && !ID_PATTERN.test(normalised))
      return `an image id or digest is sha256: and 64 hex digits; give all 64, or at least ${SHORT_ID_MIN_HEX} in an --exclude (a short id, as crictl images prints it), or a glob such as sha256:abcdef012345*`;
    return undefined;
  }
  const digestAt = normalised.indexOf("@sha256:");
  if (digestAt !== -1) {
    const hex = normalised.slice(digestAt + "@sha256:".length);
    if (!GLOB_MAGIC.test(hex) && /^[0-9a-f]*$/.test(hex) && hex.length !== 64)
      return `the digest after @sha256: has ${hex.length} hex digits, a digest has 64 (write it whole, or a short id alone: sha256:<at least ${SHORT_ID_MIN_HEX} hex digits> in an --exclude)`;
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
      // No normalisation: an include searches each normalised name, an exclude every spelling.
      const test = compileGrepPattern(key, source);
      return {
        source,
        normalised: source,
        role,
        kind: "regex",
        test,
        matchesId: false,
        matchesRepository: false,
        // An exclude expression that spells a digest may mean one a client hides: fail closed.
        ...(role === "exclude" && /sha256/i.test(source) ? { digest: {} } : {}),
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
    if (role === "include" && SHORT_ID.test(normalised)) {
      throw new ConfigError(
        key,
        source,
        `it can never match an image (an --include id is matched whole: give all 64 hex digits, or a glob such as ${normalised}*)`,
      );
    }
    const last = normalised.slice(normalised.lastIndexOf("/") + 1);
    // Text, not a shell word: no comments, no leading-! negation (that is what --exclude is for).
    const glob = (g: string) => new Minimatch(g, { dot: true, nocomment: true, nonegate: true });
    // In an exclude a short id (`sha256:9705fd1c48a5`, or bare as crictl prints it) is a prefix
    // of ids and digests; a bare one may also be a repository name, and is taken as both.
    const shortId = SHORT_ID.test(normalised)
      ? normalised
      : role === "exclude" && BARE_SHORT_ID.test(source)
        ? `sha256:${source}`
        : undefined;
    const matchers = [glob(shortId === normalised ? `${normalised}*` : normalised)];
    if (shortId !== undefined && shortId !== normalised) matchers.push(glob(`${shortId}*`));
    const pattern: ImagePattern = {
      source,
      normalised,
      role,
      kind: "glob",
      test: (text) => matchers.some((m) => m.match(text)),
      matchesId,
      matchesRepository: role === "exclude" && !matchesId && !/[:@]/.test(last),
    };
    const at = normalised.indexOf("@sha256:");
    if (role === "exclude" && (matchesId || shortId !== undefined || at !== -1)) {
      const named = at === -1 ? undefined : repositoryOf(normalised.slice(0, at));
      const repository = named === undefined ? undefined : glob(named);
      pattern.digest = repository === undefined ? {} : { repository: (r) => repository.match(r) };
    }
    return pattern;
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
 * docker's familiar form of a normalised name, as `docker images` prints it and people write it:
 * `docker.io/library/nginx:1.25` -> `nginx:1.25`, `docker.io/acme/app:1` -> `acme/app:1`.
 */
export function familiarName(normalised: string): string {
  if (normalised.startsWith("docker.io/library/"))
    return normalised.slice("docker.io/library/".length);
  if (normalised.startsWith("docker.io/")) return normalised.slice("docker.io/".length);
  return normalised;
}

/** What the agent knows an image by: its names as the runtime reports them, id, manifest digests. */
export interface ImageNames {
  names: readonly string[];
  id: string;
  digests?: readonly string[];
}

/** Every digest an image is known by: its config id, manifest digests and digests in its names. */
function digestsOf(image: ImageNames): string[] {
  const out = new Set([canonicalId(image.id), ...(image.digests ?? []).map(canonicalId)]);
  for (const name of image.names) {
    const at = name.indexOf("@");
    if (at !== -1) out.add(name.slice(at + 1));
  }
  out.delete("");
  return [...out];
}

/**
 * Every way an exclude may name the image (it errs wide): each name as the runtime reports it,
 * normalised and familiar, with and without its tag, with each of the image's digests
 * (`repository@digest`, `repository:tag@digest`: what `crictl images --digests` and a pod's
 * `imageID` show, also where the client lists no repo digest), and the digests and id themselves.
 */
export function excludeSpellings(image: ImageNames): string[] {
  const digests = digestsOf(image);
  const out = new Set<string>(digests);
  for (const raw of image.names) {
    out.add(raw);
    const name = normaliseReference(raw);
    const repository = repositoryOf(name);
    const forms = [name, repository, ...digests.map((d) => `${repository}@${d}`)];
    if (!name.includes("@")) forms.push(...digests.map((d) => `${name}@${d}`));
    for (const form of forms) {
      out.add(form);
      out.add(familiarName(form));
    }
  }
  return [...out];
}

/**
 * The first pattern that matches the image. An include is matched as documented: a glob against
 * each name normalised, or against the image id for patterns starting with `sha256:`; a regex
 * against each name normalised. An exclude is tried against every spelling of the image
 * (`excludeSpellings`), so an exclude written any way an operator sees the image keeps it.
 */
export function firstMatch(
  patterns: readonly ImagePattern[],
  names: readonly string[],
  id: string,
  digests: readonly string[] = [],
): { pattern: ImagePattern; name: string } | undefined {
  const normalised = names.map(normaliseReference);
  let spellings: string[] | undefined;
  for (const pattern of patterns) {
    if (pattern.role === "exclude") {
      spellings ??= excludeSpellings({ names, id, digests });
      const name = spellings.find((s) => pattern.test(s));
      if (name !== undefined) return { pattern, name };
      continue;
    }
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

/** The digest excludes that match no image of `images`: each may name a digest a client hides. */
export function unresolvedDigestExcludes(
  patterns: readonly ImagePattern[],
  images: readonly ImageNames[],
): ImagePattern[] {
  return patterns.filter(
    (p) =>
      p.digest !== undefined &&
      !images.some((i) => firstMatch([p], i.names, i.id, i.digests) !== undefined),
  );
}

/**
 * An unresolved digest exclude (see `unresolvedDigestExcludes`) that may name this image: the
 * client reports no manifest digest for it (crictl and the Docker Engine list none for an image
 * imported rather than pulled), and the exclude names no repository or one of the image's.
 * Fails closed: the exclude might be this image's manifest digest, so the image is kept.
 */
export function digestUnknownMatch(
  unresolved: readonly ImagePattern[],
  image: ImageNames,
): { pattern: ImagePattern; name: string } | undefined {
  if (image.digests !== undefined && image.digests.length > 0) return undefined;
  if (image.names.some((n) => n.includes("@"))) return undefined;
  const repositories = image.names.map((n) => repositoryOf(normaliseReference(n)));
  const pattern = unresolved.find(
    (p) =>
      p.digest?.repository === undefined || repositories.some((r) => p.digest?.repository?.(r)),
  );
  return pattern === undefined
    ? undefined
    : { pattern, name: `${canonicalId(image.id)} (its manifest digest is unknown to the client)` };
}
