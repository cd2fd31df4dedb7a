// Where an image reference is asked about: the registry host of the reference itself (never a host
// from anywhere else), its repository and the tag or digest, as the Docker Registry HTTP API v2 and
// the OCI distribution spec address a manifest: `<scheme>://<host>/v2/<repository>/manifests/<ref>`.
//
//   docker.io/library/nginx:1.25   -> https://registry-1.docker.io/v2/library/nginx/manifests/1.25
//   quay.io/x/y@sha256:...         -> https://quay.io/v2/x/y/manifests/sha256:...
//   127.0.0.1:5100/team/app:v1     -> http://127.0.0.1:5100/v2/team/app/manifests/v1
//
// Plain HTTP only for loopback registries (localhost, 127.0.0.0/8, [::1]): Docker treats those as
// insecure registries by default and containerd's resolver defaults them to HTTP; every other
// registry is asked over HTTPS, whatever a node's own runtime configuration says.
import { isImageReference } from "../config/image-reference.js";
import { isImageId, normaliseReference } from "../config/patterns.js";

export interface ManifestEndpoint {
  /** The registry as the reference names it (`docker.io`, `quay.io`, `127.0.0.1:5100`). */
  registry: string;
  /** The host the API is served on (Docker Hub's is `registry-1.docker.io`). */
  apiHost: string;
  scheme: "https" | "http";
  repository: string;
  /** The tag or the digest. */
  reference: string;
  /** The manifest's URL. */
  url: string;
}

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

/** True for localhost, 127.0.0.0/8 and [::1], with or without a port. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(0, registry.indexOf("]") + 1)
    : (registry.split(":")[0] ?? "");
  return host === "localhost" || host === "[::1]" || /^127(?:\.[0-9]{1,3}){3}$/.test(host);
}

/**
 * The manifest endpoint of an image name, or undefined for what names no pullable manifest: an
 * image id, or a string that is no image reference (pod authors write `image:` freely).
 */
export function manifestEndpoint(name: string): ManifestEndpoint | undefined {
  if (isImageId(name) || !isImageReference(name)) return undefined;
  const full = normaliseReference(name);
  const slash = full.indexOf("/");
  const registry = full.slice(0, slash);
  const rest = full.slice(slash + 1);
  const at = rest.indexOf("@");
  let repository: string;
  let reference: string;
  if (at !== -1) {
    // name:tag@digest pulls the digest; the tag is only a label then.
    repository = rest.slice(0, at).replace(/:[^/]*$/, "");
    reference = rest.slice(at + 1);
  } else {
    const colon = rest.lastIndexOf(":");
    repository = rest.slice(0, colon);
    reference = rest.slice(colon + 1);
  }
  const apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  const scheme = isLoopbackRegistry(registry) ? "http" : "https";
  return {
    registry,
    apiHost,
    scheme,
    repository,
    reference,
    url: `${scheme}://${apiHost}/v2/${repository}/manifests/${reference}`,
  };
}
