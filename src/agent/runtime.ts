// The interface both runtime clients implement, and how the agent picks socket and client.
import type { ImageFsReading } from "./image-fs.js";
import { RuntimeUnavailableError } from "../errors.js";
import type { ClientChoice } from "../config/agent-options.js";
import { CommandFailedError, CommandNotFoundError, lastLines, type HostExec } from "./host-exec.js";
import type { ImageRecord, Inventory } from "./inventory.js";
import type { RuntimeClientName } from "../run-model/agent-result.js";
import { CLIENT_LOCATIONS, clientPrograms } from "./client-locations.js";
import { checkMountedSocket } from "./socket-check.js";
import type { ImageClocks } from "./ctr-clocks.js";

export interface RuntimeVersion {
  name?: string;
  version?: string;
}

/** The inventory's usage part, image volumes always read: what the re-check before a delete needs. */
export type Usage = Pick<Inventory, "containers" | "sandboxes"> &
  Required<Pick<Inventory, "imageVolumes">>;

/** What one remove call did, per image id. */
export interface Removal {
  /** The client's error text. */
  errors: Map<string, string>;
  /**
   * Images the call removed nothing of, because the runtime no longer had them (its "not found"):
   * someone else removed them first; why, in words.
   */
  alreadyGone: Map<string, string>;
}

export interface RuntimeAdapter {
  readonly client: RuntimeClientName;
  readonly socket: string;
  /** Asks the runtime for its name and version; fails when it is unreachable. */
  version(): Promise<RuntimeVersion>;
  /**
   * `withTimes`: when each image was pulled (--min-age); `withCreated`: when each was built, from its
   * config (--keep-newest, per-node limits).
   */
  inventory(options: { withTimes: boolean; withCreated?: boolean }): Promise<Inventory>;
  /** Containers, sandboxes and image volumes only: the re-check right before a delete. */
  usage(): Promise<Usage>;
  /** Replaces size estimates with exact sizes where the client only gives estimates. */
  measure(images: readonly ImageRecord[]): Promise<void>;
  /** Removes the images (every reference); what the client said about each (see Removal). */
  remove(images: readonly ImageRecord[]): Promise<Removal>;
  /**
   * What is present now, to check that removals took effect: every image id, reference and content
   * (manifest) digest the runtime lists, each with the references that hold it. Read without the
   * inventory's parsers, so a reference they could not read still counts.
   */
  present(): Promise<Map<string, string[]>>;
  /**
   * Where --unused-for keeps its clocks (containerd image labels); absent where the runtime keeps
   * no labels an agent can write (Docker Engine: an image's labels are part of its config).
   */
  readonly clocks?: ImageClocks;
  /** What reports the image filesystem's used bytes, for a warning when it cannot be read. */
  readonly imageFsSource: string;
  /**
   * The image filesystem's used bytes as the runtime reports them now, without waiting for a
   * refresh: whether the reading already reflects the removals is decided by `imageFsFigure`.
   */
  imageFsUsage(): Promise<ImageFsReading>;
}

/**
 * Where runtimes put their sockets, probed in this order when --socket is not given, and which
 * clients speak to each. cri-dockerd's first: it exists only where the kubelet runs on Docker, whose
 * own containerd (also at /run/containerd/containerd.sock) holds none of the kubelet's images. A
 * node's CRI runtime comes before Docker's socket: a Kubernetes node may run Docker beside containerd
 * (for builds), and the kubelet's images are in its CRI runtime.
 */
export const SOCKET_CANDIDATES: readonly {
  path: string;
  runtime: string;
  clients: readonly RuntimeClientName[];
}[] = [
  // A kubelet on Docker Engine (Mirantis Kubernetes Engine and others) talks CRI to cri-dockerd.
  { path: "/var/run/cri-dockerd.sock", runtime: "cri-dockerd", clients: ["crictl"] },
  { path: "/run/containerd/containerd.sock", runtime: "containerd", clients: ["crictl", "ctr"] },
  // k3s and RKE2 alike.
  {
    path: "/run/k3s/containerd/containerd.sock",
    runtime: "k3s/RKE2 containerd",
    clients: ["crictl", "ctr"],
  },
  { path: "/var/run/crio/crio.sock", runtime: "CRI-O", clients: ["crictl"] },
  { path: "/var/run/docker.sock", runtime: "Docker Engine", clients: ["docker"] },
];

/** The sockets `choice` can use, in probing order. */
export function socketCandidates(choice: ClientChoice): string[] {
  return SOCKET_CANDIDATES.filter((c) => choice === "auto" || c.clients.includes(choice)).map(
    (c) => c.path,
  );
}

export async function findSocket(
  exec: HostExec,
  given: string | undefined,
  choice: ClientChoice = "auto",
): Promise<string> {
  if (exec.mode === "socket") {
    // loadAgentConfig requires --socket in this mode; the mount is checked, not probed for.
    if (given === undefined) throw new RuntimeUnavailableError("--host-exec socket needs --socket");
    await checkMountedSocket(given);
    return given;
  }
  const where =
    exec.mode === "nsenter" ? `on the node (through ${exec.hostRoot})` : "from the agent";
  if (given !== undefined) {
    if (await exec.socketExists(given)) return given;
    throw new RuntimeUnavailableError(
      `runtime socket ${given} not found ${where}: fix --socket${exec.mode === "direct" ? " or mount the socket into the pod" : ""}`,
    );
  }
  const candidates = socketCandidates(choice);
  for (const path of candidates) {
    if (await exec.socketExists(path)) return path;
  }
  throw new RuntimeUnavailableError(
    `no runtime socket found ${where}; looked for ${candidates.join(", ")}: give --socket PATH`,
  );
}

/** Makes the adapter for `client`, running `program` (the bare name, or a path to it; docker runs none). */
export type AdapterFactory = (
  client: RuntimeClientName,
  socket: string,
  program: string,
) => RuntimeAdapter;

/**
 * The containerd on the socket serves no CRI: the one Docker (docker-ce's containerd.io) runs for
 * itself, with the CRI plugin disabled. Its images are Docker's, not the kubelet's.
 */
export class NoCriError extends RuntimeUnavailableError {
  constructor(
    readonly socket: string,
    detail: string,
  ) {
    super(
      `the runtime at ${socket} serves no CRI (${detail}): a containerd without its CRI plugin, such as the one Docker Engine runs for itself; use --client docker for Docker's images, or --socket for the kubelet's runtime`,
    );
    this.name = "NoCriError";
  }
}

/**
 * Picks the client (auto: docker for a Docker Engine socket; else crictl, which speaks CRI to every
 * runtime, else ctr for containerd) and checks that it reaches the runtime: each client by its name on
 * PATH first, then where RKE2 and k3s keep it (`fileExists`: the host exec's check). `isEngine`
 * says whether a socket answers as a Docker Engine (auto only). Errors name the binary or socket to fix.
 */
export async function connectRuntime(
  choice: ClientChoice,
  socket: string,
  make: AdapterFactory,
  fileExists: (path: string) => Promise<boolean> = () => Promise.resolve(false),
  isEngine: (socket: string) => Promise<boolean> = () => Promise.resolve(false),
): Promise<{ adapter: RuntimeAdapter; version: RuntimeVersion }> {
  if (choice === "docker" || (choice === "auto" && (await isEngine(socket)))) {
    // The agent speaks the Engine API itself: no program to find. An unreachable Engine says why.
    const adapter = make("docker", socket, "");
    return { adapter, version: await adapter.version() };
  }
  const order: RuntimeClientName[] =
    choice === "auto"
      ? socket.includes("crio") || socket.includes("cri-dockerd")
        ? ["crictl"]
        : ["crictl", "ctr"]
      : [choice];
  const missing: CommandNotFoundError[] = [];
  const candidates: [RuntimeClientName, string][] = [];
  for (const client of order)
    for (const program of await clientPrograms(client, fileExists))
      candidates.push([client, program]);
  for (const [client, program] of candidates) {
    const adapter = make(client, socket, program);
    try {
      return { adapter, version: await adapter.version() };
    } catch (err) {
      if (err instanceof CommandNotFoundError) {
        missing.push(err);
        continue;
      }
      if (err instanceof CommandFailedError) {
        const noCri = NO_CRI.exec(err.result.stderr)?.[0];
        if (client === "crictl" && noCri !== undefined) throw new NoCriError(socket, noCri);
        throw new RuntimeUnavailableError(
          `${client} cannot reach the runtime at ${socket}: ${lastLines(err.result.stderr)}; check --socket and that the runtime is running`,
        );
      }
      throw err;
    }
  }
  const what = missing
    .map((m) => {
      const elsewhere = (CLIENT_LOCATIONS as Partial<Record<string, readonly string[]>>)[m.program];
      return elsewhere?.length ? `${m.message} nor at ${elsewhere.join(", ")}` : m.message;
    })
    .join("; ");
  throw new RuntimeUnavailableError(
    choice === "auto"
      ? `no runtime client: ${what}; install crictl or ctr, or use --host-exec nsenter to use the node's own`
      : `${what}: install it, choose another --client, or change --host-exec`,
  );
}

/** gRPC's answer when the server has no CRI runtime service (containerd with `disabled_plugins = ["cri"]`). */
const NO_CRI = /unknown service runtime\.v1(?:alpha2)?\.RuntimeService/;
