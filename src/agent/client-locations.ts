// Where Kubernetes distributions keep the runtime clients when they are not on PATH. RKE2 ships
// crictl and ctr in /var/lib/rancher/rke2/bin and puts nothing on the host's PATH; k3s links them
// into /usr/local/bin (on PATH) but the installer skips a name that exists already, and its data
// dir always has them. Both run containerd on /run/k3s/containerd/containerd.sock.
import type { RuntimeClientName } from "../run-model/agent-result.js";

/** Tried in this order after the bare name on PATH. */
export const CLIENT_LOCATIONS: Readonly<Record<RuntimeClientName, readonly string[]>> = {
  crictl: ["/var/lib/rancher/rke2/bin/crictl", "/var/lib/rancher/k3s/data/current/bin/crictl"],
  ctr: ["/var/lib/rancher/rke2/bin/ctr", "/var/lib/rancher/k3s/data/current/bin/ctr"],
  // No binary: the agent speaks the Engine API over the socket itself.
  docker: [],
};

/**
 * The programs to run for `client`, in order: the bare name (found on PATH), then each known
 * location that exists as the clients will see it (`exists`: the host exec's check, through the
 * node's root in nsenter mode).
 */
export async function clientPrograms(
  client: RuntimeClientName,
  exists: (path: string) => Promise<boolean>,
): Promise<string[]> {
  const found: string[] = [];
  for (const path of CLIENT_LOCATIONS[client]) if (await exists(path)) found.push(path);
  return [client, ...found];
}
