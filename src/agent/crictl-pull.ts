// Pre-pull through the CRI: `crictl pull`, as the kubelet pulls (the runtime's registry
// configuration, mirrors and hosts.toml apply, and the image gets the CRI's labels and repo digest).
// Credentials go to crictl in its environment (CRICTL_AUTH, base64 of user:password, which crictl
// reads like its --auth flag), never on its command line: a node's `ps` shows every process's argv
// to every user, the environment only to root and the owner.
import type { RegistryCredential } from "../registry/credentials.js";
import type { PullClient } from "./pull.js";
import { crictlClient } from "./crictl-command.js";

/** The longest one pull may take. @default 30 minutes */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/**
 * A pull of a large image takes minutes: crictl's and HostExec's limits are PULL_TIMEOUT_MS, not
 * the default client call's 5 minutes; what the node's deadline leaves bounds it further.
 */
export const createCrictlPullClient = crictlClient(
  `${String(PULL_TIMEOUT_MS / 60_000)}m`,
  ({ exec, argv }): PullClient => ({
    async imageId(ref) {
      // `--` ends the options: a name is never read as a flag.
      const r = await exec.run(argv("inspecti", "-o", "json", "--", ref));
      if (r.code !== 0) return undefined;
      return parseInspectiId(r.stdout);
    },
    async pull(ref, credential, timeoutMs) {
      const r = await exec.run(argv("pull", "--", ref), {
        ...credentialEnv(credential),
        timeoutMs: Math.min(timeoutMs ?? PULL_TIMEOUT_MS, PULL_TIMEOUT_MS),
      });
      if (r.code !== 0) return { ok: false, stderr: r.stderr, timedOut: r.timedOut === true };
      // crictl prints "Image is up to date for sha256:<id>".
      const id = /\b(sha256:[0-9a-f]{64})\b/.exec(r.stdout)?.[1];
      return { ok: true, id };
    },
  }),
);

function credentialEnv(
  credential: RegistryCredential | undefined,
): { env: Record<string, string> } | Record<string, never> {
  if (credential === undefined) return {};
  const auth = Buffer.from(`${credential.username}:${credential.password}`).toString("base64");
  return { env: { CRICTL_AUTH: auth } };
}

/** The id from `crictl inspecti -o json` (one image: {"status": {"id": ...}}). */
function parseInspectiId(stdout: string): string | undefined {
  try {
    const parsed = JSON.parse(stdout) as { status?: { id?: unknown } };
    return typeof parsed.status?.id === "string" ? parsed.status.id : undefined;
  } catch {
    // Not one image's JSON (an old crictl prints a list for several): not known as present.
    return undefined;
  }
}
