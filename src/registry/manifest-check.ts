// "Can this image be pulled again?", asked the way a runtime asks before a pull: a manifest HEAD
// (Docker Registry HTTP API v2 / OCI distribution spec), answering the registry's 401 challenge
// with the pull Secrets' credentials, Basic or the token flow Docker Hub uses (`WWW-Authenticate:
// Bearer realm=...` -> GET realm?service=...&scope=repository:<repo>:pull -> `Authorization: Bearer`).
//
// Who controls what: the registry host comes from the image's own name (pod authors control image
// strings, and the node already pulled from that host); the token realm comes from the registry,
// so it is only followed over HTTPS (or plain HTTP from a loopback registry to a loopback realm),
// and nothing answers a redirect. Every request is cut off after `timeoutMs`, and a registry that
// could not be reached once is not asked again in the same run (its other images get the same
// answer at once), so an unreachable registry costs one timeout, not one per image.
import { manifestEndpoint, isLoopbackRegistry, type ManifestEndpoint } from "./endpoint.js";
import { parseChallenges, type Challenge } from "./challenge.js";
import {
  basicAuthorization,
  credentialFor,
  describeCredentials,
  type CredentialStore,
  type RegistryCredential,
} from "./credentials.js";

/** What a registry said about one image name. */
export type ManifestVerdict =
  | { kind: "served"; digest: string | undefined }
  /** The registry answered, and serves no manifest under that tag or digest (404). */
  | { kind: "not-served"; detail: string }
  /** The registry answered, and refused us (401/403 after answering its challenge). */
  | { kind: "denied"; detail: string }
  /** No answer that says anything about the image: network error, timeout, TLS, 5xx, 429, 3xx. */
  | { kind: "unreachable"; detail: string }
  /** Not a name a registry serves (an image id, or not an image reference). */
  | { kind: "no-registry"; detail: string };

export interface ManifestChecker {
  check(name: string): Promise<ManifestVerdict>;
}

export interface ManifestCheckerOptions {
  credentials: CredentialStore;
  /** Each request's limit. */
  timeoutMs: number;
  /** The HTTP client (tests pass none: the real fetch against a real registry). */
  fetch?: typeof globalThis.fetch;
}

/** What a registry is asked to return: every manifest kind a runtime pulls. */
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export function manifestChecker(options: ManifestCheckerOptions): ManifestChecker {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const tokens = new Map<string, Promise<TokenResult>>();
  /** Registries that could not be reached: their verdict, reused for the rest of the run. */
  const unreachable = new Map<string, ManifestVerdict>();

  async function request(url: string, init: RequestInit): Promise<Response> {
    return fetchFn(url, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  }

  async function token(
    endpoint: ManifestEndpoint,
    challenge: Challenge,
    credential: RegistryCredential | undefined,
  ): Promise<TokenResult> {
    const realm = challenge.params.realm ?? "";
    const problem = realmProblem(realm, endpoint);
    if (problem !== undefined) return { error: problem };
    const url = new URL(realm);
    if (challenge.params.service !== undefined)
      url.searchParams.set("service", challenge.params.service);
    url.searchParams.set("scope", `repository:${endpoint.repository}:pull`);
    const key = `${url.toString()} ${credential?.source ?? ""}`;
    let pending = tokens.get(key);
    if (pending === undefined) {
      pending = fetchToken(url.toString(), credential);
      tokens.set(key, pending);
    }
    return pending;
  }

  async function fetchToken(
    url: string,
    credential: RegistryCredential | undefined,
  ): Promise<TokenResult> {
    let res: Response;
    try {
      res = await request(url, {
        headers: credential === undefined ? {} : { authorization: basicAuthorization(credential) },
      });
    } catch (err) {
      return { error: `token service ${new URL(url).host} not reached: ${networkProblem(err)}` };
    }
    if (res.status === 401 || res.status === 403)
      return {
        error:
          credential === undefined
            ? `token service ${new URL(url).host} wants credentials (HTTP ${res.status}) and no pull Secret names the registry`
            : `token service ${new URL(url).host} refused ${describeCredentials(credential)} (HTTP ${res.status})`,
        denied: true,
      };
    if (res.status !== 200)
      return { error: `token service ${new URL(url).host} answered HTTP ${res.status}` };
    const body = (await res.json().catch(() => undefined)) as
      { token?: unknown; access_token?: unknown } | undefined;
    const value = body?.token ?? body?.access_token;
    if (typeof value !== "string" || value === "")
      return { error: `token service ${new URL(url).host} returned no token` };
    return { token: value };
  }

  async function head(endpoint: ManifestEndpoint, authorization: string | undefined) {
    return request(endpoint.url, {
      method: "HEAD",
      headers: { accept: ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
    });
  }

  async function check(name: string): Promise<ManifestVerdict> {
    const endpoint = manifestEndpoint(name);
    if (endpoint === undefined)
      return {
        kind: "no-registry",
        detail: "an image id or no image reference: no registry serves it",
      };
    const known = unreachable.get(endpoint.registry);
    if (known !== undefined) return known;
    const credential = credentialFor(options.credentials, endpoint.registry);
    try {
      let res = await head(endpoint, undefined);
      if (res.status === 401) {
        const challenge = parseChallenges(res.headers.get("www-authenticate") ?? "")[0];
        let authorization: string | undefined;
        if (challenge?.scheme === "bearer") {
          const got = await token(endpoint, challenge, credential);
          if ("error" in got)
            return got.denied === true
              ? { kind: "denied", detail: got.error }
              : remember(endpoint, got.error);
          authorization = `Bearer ${got.token}`;
        } else if (challenge?.scheme === "basic" && credential !== undefined) {
          authorization = basicAuthorization(credential);
        } else {
          return {
            kind: "denied",
            detail: `${endpoint.registry} needs credentials (HTTP 401) and ${describeCredentials(credential)} ${credential === undefined ? "name it: add its image pull Secret" : `answer a ${challenge?.scheme ?? "missing"} challenge`}`,
          };
        }
        res = await head(endpoint, authorization);
      }
      return verdictOf(endpoint, res, credential);
    } catch (err) {
      return remember(endpoint, `${endpoint.registry} not reached: ${networkProblem(err)}`);
    }
  }

  function remember(endpoint: ManifestEndpoint, detail: string): ManifestVerdict {
    const verdict: ManifestVerdict = { kind: "unreachable", detail };
    unreachable.set(endpoint.registry, verdict);
    return verdict;
  }

  return { check };
}

type TokenResult = { token: string } | { error: string; denied?: boolean };

function verdictOf(
  endpoint: ManifestEndpoint,
  res: Response,
  credential: RegistryCredential | undefined,
): ManifestVerdict {
  const what = `${endpoint.repository}:${endpoint.reference}`.replace(/:sha256:/, "@sha256:");
  if (res.status === 200)
    return { kind: "served", digest: res.headers.get("docker-content-digest") ?? undefined };
  if (res.status === 404)
    return {
      kind: "not-served",
      detail: `${endpoint.registry} no longer serves ${what} (HTTP 404)`,
    };
  if (res.status === 401 || res.status === 403)
    return {
      kind: "denied",
      detail:
        credential === undefined
          ? `${endpoint.registry} refused ${what} without credentials (HTTP ${res.status}) and no pull Secret names it`
          : `${endpoint.registry} refused ${describeCredentials(credential)} for ${what} (HTTP ${res.status})`,
    };
  return {
    kind: "unreachable",
    detail: `${endpoint.registry} answered HTTP ${res.status} for ${what}`,
  };
}

/** Why a realm is not followed, or undefined. */
function realmProblem(realm: string, endpoint: ManifestEndpoint): string | undefined {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return `${endpoint.registry} named no usable token realm`;
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && endpoint.scheme === "http" && isLoopbackRegistry(url.host))
    return undefined;
  return `${endpoint.registry} named a token realm on ${url.protocol}//${url.host}: only HTTPS realms are followed (plain HTTP only from a loopback registry to a loopback realm)`;
}

/** A network error in a few words: the system's code (ECONNREFUSED, ENOTFOUND) or timeout. */
export function networkProblem(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))
    return "no answer in time";
  const cause =
    err instanceof Error
      ? (err.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
