// `--host-exec socket`: the agent runs unprivileged with nothing of the node but its runtime socket,
// mounted into the pod. Before any client runs, the mount is checked and every way it can be wrong
// gets its own message naming the path and what to mount or grant: a client's own error ("connection
// refused", "permission denied" after a 30 s retry) says neither.
import { connect } from "node:net";
import { stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { RuntimeUnavailableError } from "../errors.js";

/** How long connecting to the mounted socket may take before it counts as not answering. */
const CONNECT_TIMEOUT_MS = 5000;

const HOW_TO_MOUNT =
  "mount the node's runtime socket there, the socket file itself (a hostPath volume of type Socket): " +
  "the chart does with helper.mode=socket, from runtime.socket (the path on the node)";

/** What the agent runs as, for the permission message. */
export interface Identity {
  uid: number;
  gid: number;
  groups: readonly number[];
}

function ownIdentity(): Identity {
  return {
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    groups: process.getgroups?.() ?? [],
  };
}

/**
 * Resolves when `path` is a unix socket this process may connect to and something accepts the
 * connection; otherwise throws RuntimeUnavailableError (exit 2) saying what to mount or grant.
 */
export async function checkMountedSocket(
  path: string,
  identity: Identity = ownIdentity(),
): Promise<void> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuntimeUnavailableError(
      code === "ENOENT" || code === "ENOTDIR"
        ? `runtime socket ${path} is not there (--host-exec socket): ${HOW_TO_MOUNT}`
        : `runtime socket ${path} cannot be looked at (${code ?? String(err)}) (--host-exec socket): ${HOW_TO_MOUNT}`,
    );
  }
  if (!info.isSocket()) {
    throw new RuntimeUnavailableError(
      `runtime socket ${path} is ${kindOf(info)}, not a socket (--host-exec socket): ${HOW_TO_MOUNT}` +
        (info.isDirectory() ? "; mount the socket, not the directory that holds it" : ""),
    );
  }
  const failure = await tryConnect(path);
  if (failure === undefined) return;
  if (failure === "EACCES" || failure === "EPERM") {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new RuntimeUnavailableError(
      `runtime socket ${path} refuses this agent (permission denied): the socket is owned by ` +
        `uid ${String(info.uid)} gid ${String(info.gid)}, mode ${mode}; the agent runs as uid ` +
        `${String(identity.uid)}, gid ${String(identity.gid)}, groups ${identity.groups.join(",") || "none"}: ` +
        `run the helper with the socket's group (helper.socket.gid=${String(info.gid)}, --helper-socket-gid)` +
        (info.mode & 0o020 ? "" : ", and the socket needs group write permission on the node"),
    );
  }
  throw new RuntimeUnavailableError(
    failure === "ECONNREFUSED"
      ? `runtime socket ${path} is there but nothing accepts connections on it: is the runtime running on the node, and is runtime.socket the socket it listens on?`
      : `runtime socket ${path} does not answer (${failure}): is the runtime running on the node?`,
  );
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFile()) return info.size === 0 ? "an empty file" : "a regular file";
  if (info.isSymbolicLink()) return "a symbolic link";
  return "not a socket";
}

/** Connects once and hangs up; undefined on success, else the error code. */
function tryConnect(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within ${String(CONNECT_TIMEOUT_MS / 1000)} s`);
    }, CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}
