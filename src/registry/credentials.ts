// Registry credentials from image pull Secrets (type kubernetes.io/dockerconfigjson): the
// `.dockerconfigjson` key holds `{"auths": {"<registry>": {"auth": base64("user:pass")}}}` or
// `username`/`password` fields. The kubelet reads the same format; its keys are matched the way the
// kubelet's credential provider matches them: a key may be a URL (`https://index.docker.io/v1/`),
// a host with a port, and a path; Docker Hub answers to several names.
//
// Credentials never leave this module as text for a log: `describeCredentials` names the Secret a
// credential came from, never its user or password.

export interface RegistryCredential {
  username: string;
  password: string;
  /** The Secret (namespace/name or file) it came from, for messages. */
  source: string;
}

/** Registry host (as written in images, `docker.io` for Docker Hub) -> credential. */
export type CredentialStore = ReadonlyMap<string, RegistryCredential>;

const DOCKER_HUB_ALIASES = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);

/** Why a `.dockerconfigjson` cannot be used (never quotes its content), or its entries. */
export function parseDockerConfig(
  text: string,
  source: string,
): { entries: [string, RegistryCredential][] } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may be a password.
    return { problem: `${source}: .dockerconfigjson is not JSON` };
  }
  const auths = isRecord(parsed) ? parsed.auths : undefined;
  if (!isRecord(auths)) return { problem: `${source}: .dockerconfigjson has no "auths" object` };
  const entries: [string, RegistryCredential][] = [];
  for (const [key, value] of Object.entries(auths)) {
    const host = registryOfKey(key);
    if (host === undefined || !isRecord(value))
      return { problem: `${source}: auths entry ${JSON.stringify(key)} names no registry host` };
    const fromAuth = typeof value.auth === "string" ? decodeAuth(value.auth) : undefined;
    const username =
      typeof value.username === "string" && value.username !== ""
        ? value.username
        : fromAuth?.username;
    const password =
      typeof value.password === "string" && value.password !== ""
        ? value.password
        : fromAuth?.password;
    if (username === undefined || password === undefined)
      return {
        problem: `${source}: auths entry ${JSON.stringify(key)} has neither "auth" (base64 of user:password) nor "username" and "password"`,
      };
    entries.push([host, { username, password, source }]);
  }
  return { entries };
}

/** The registry host a dockerconfig key names: scheme and path dropped, Docker Hub as `docker.io`. */
export function registryOfKey(key: string): string | undefined {
  const bare = key.trim().replace(/^[a-z]+:\/\//i, "");
  const host = bare.split("/")[0]?.toLowerCase() ?? "";
  if (host === "" || /[\s@]/.test(host)) return undefined;
  return DOCKER_HUB_ALIASES.has(host) ? "docker.io" : host;
}

/** The store of several Secrets' entries: the first Secret that names a registry wins. */
export function credentialStore(entries: Iterable<[string, RegistryCredential]>): CredentialStore {
  const store = new Map<string, RegistryCredential>();
  for (const [host, credential] of entries) if (!store.has(host)) store.set(host, credential);
  return store;
}

/** The credential for a registry (as written in image names: `docker.io`, `quay.io`, `host:port`). */
export function credentialFor(
  store: CredentialStore,
  registry: string,
): RegistryCredential | undefined {
  const host = registry.toLowerCase();
  return store.get(DOCKER_HUB_ALIASES.has(host) ? "docker.io" : host);
}

/** `Basic <base64(user:password)>`. */
export function basicAuthorization(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}

/** For messages: where a credential came from, never what it is. */
export function describeCredentials(credential: RegistryCredential | undefined): string {
  return credential === undefined ? "no credentials" : `the credentials of ${credential.source}`;
}

function decodeAuth(auth: string): { username: string; password: string } | undefined {
  const text = Buffer.from(auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
