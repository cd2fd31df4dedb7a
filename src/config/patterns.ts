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

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAINS = new Set(["index.docker.io", "registry-1.docker.io"]);
const GLOB_MAGIC = /[*?[\]{}()!+@]/;
const ID_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** True for a bare content id `sha256:<64 hex>` (an image id, not a reference). */
export function isImageId(ref: string): boolean {
  return ID_PATTERN.test(ref);
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
  const repo = host === DEFAULT_DOMAIN && !path.includes("/") ? `library/${path}` : path;
  return `${host}/${repo}`;
}

/**
 * Normalises an image reference to its full form (see the file header). Image ids (`sha256:...`)
 * and runtime prefixes such as `docker-pullable://` (kubelet's containerStatuses.imageID) are handled.
 */
export function normaliseReference(ref: string): string {
  const bare = ref.replace(/^[a-z-]+:\/\//, "");
  if (isImageId(bare)) return bare;
  const full = withDefaultDomain(bare);
  return hasTagOrDigest(full.slice(full.indexOf("/") + 1)) ? full : `${full}:latest`;
}

/**
 * Normalises a glob pattern like a reference, except: a pattern that starts with glob magic
 * (`**\/nginx:*`) is taken as written, and a pattern with magic gets no implicit `:latest`
 * (`docker.io/acme/*` means every image of acme, not only `:latest` ones).
 */
export function normalisePattern(pattern: string): string {
  if (pattern.startsWith("sha256:")) return pattern;
  if (GLOB_MAGIC.test(pattern.charAt(0))) return pattern;
  if (!GLOB_MAGIC.test(pattern.replace(/@sha256:/, ""))) return normaliseReference(pattern);
  return withDefaultDomain(pattern);
}

export interface ImagePattern {
  /** As given on the command line. */
  source: string;
  /** After normalisation; what is matched. */
  normalised: string;
  matcher: Minimatch;
}

/** Compiles patterns once; `key` names the option in the error for an empty pattern. */
export function compilePatterns(key: string, patterns: readonly string[]): ImagePattern[] {
  return patterns.map((source) => {
    if (source.trim() === "")
      throw new ConfigError(key, source, "give a non-empty glob such as 'docker.io/acme/*'");
    const normalised = normalisePattern(source);
    // Text, not a shell word: no comments, no leading-! negation (that is what --exclude is for).
    const matcher = new Minimatch(normalised, { dot: true, nocomment: true, nonegate: true });
    return { source, normalised, matcher };
  });
}

/**
 * The first pattern that matches one of the names (each normalised) or, for patterns starting
 * with `sha256:`, the image id.
 */
export function firstMatch(
  patterns: readonly ImagePattern[],
  names: readonly string[],
  id: string,
): { pattern: ImagePattern; name: string } | undefined {
  const normalised = names.map(normaliseReference);
  for (const pattern of patterns) {
    const candidates = pattern.normalised.startsWith("sha256:") ? [id] : normalised;
    const name = candidates.find((n) => pattern.matcher.match(n));
    if (name !== undefined) return { pattern, name };
  }
  return undefined;
}
