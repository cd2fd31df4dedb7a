// Pre-pull through the CRI: `crictl pull`, as the kubelet pulls (the runtime's registry
// configuration, mirrors and hosts.toml apply, and the image gets the CRI's labels and repo digest).
// Credentials go to crictl in its environment (CRICTL_AUTH, base64 of user:password, which crictl
// reads like its --auth flag), never on its command line: a node's `ps` shows every process's argv
// to every user, the environment only to root and the owner.
import type { RegistryCredential } from "../registry/credentials.js";
import type { HostExec } from "./host-exec.js";
import type { PullClient } from "./pull.js";
import { crictlCommand } from "./crictl-command.js";

export function createCrictlPullClient(
  exec: HostExec,
  socket: string,
  program = "crictl",
): PullClient {
  // A pull of a large image takes minutes; the node's deadline bounds it (HostExec's timeout).
  const argv = crictlCommand(program, socket, "30m");
  return {
    async imageId(ref) {
      // `--` ends the options: a name is never read as a flag.
      const r = await exec.run(argv("inspecti", "-o", "json", "--", ref));
      if (r.code !== 0) return undefined;
      return parseInspectiId(r.stdout);
    },
    async pull(ref, credential) {
      const r = await exec.run(argv("pull", "--", ref), credentialEnv(credential));
      if (r.code !== 0) return { ok: false, stderr: r.stderr };
      // crictl prints "Image is up to date for sha256:<id>".
      const id = /\b(sha256:[0-9a-f]{64})\b/.exec(r.stdout)?.[1];
      return { ok: true, id };
    },
  };
}

function credentialEnv(
  credential: RegistryCredential | undefined,
): { env: Record<string, string> } | undefined {
  if (credential === undefined) return undefined;
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
