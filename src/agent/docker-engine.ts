// The Docker Engine API over its unix socket: Node's own http with `socketPath`, no docker CLI and no
// library. The agent makes six kinds of calls (version, image list and inspect, container list,
// image delete, disk usage); dockerode would bring gRPC, protobuf, tar and ssh2 into the image for
// BuildKit sessions and SSH transports the agent never uses.
//
// Paths carry no API version: the Engine then answers in its own current version, and every field
// read here (Id, RepoTags, RepoDigests, Size, Created, ImageID, State, Labels, LayersSize) has kept
// its name and meaning from API 1.24 (Docker 1.12) on. A fixed `/v1.NN/` prefix would be refused by
// Engines whose minimum API version passed it (Docker 29 accepts nothing below 1.44).
import { request } from "node:http";
import { RuntimeUnavailableError } from "../errors.js";

/** An HTTP answer of the Engine that is not a success; `message` is the Engine's own text. */
export class EngineError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly engineMessage: string,
  ) {
    super(`docker ${method} ${path}: ${String(status)} ${engineMessage}`);
    this.name = "EngineError";
  }
}

/** The socket could not be reached at all (missing, refused, not an Engine, timed out). */
export class EngineUnreachableError extends RuntimeUnavailableError {
  constructor(
    readonly socket: string,
    readonly reason: string,
  ) {
    super(`docker cannot reach the Engine at ${socket}: ${reason}`);
    this.name = "EngineUnreachableError";
  }
}

export interface EngineClient {
  readonly socket: string;
  /** GET, parsed JSON; rejects with EngineError on a non-2xx answer. */
  get(path: string): Promise<unknown>;
  /** DELETE, parsed JSON (or undefined for an empty body); EngineError on a non-2xx answer. */
  delete(path: string): Promise<unknown>;
  /**
   * Whether the socket answers as a Docker Engine (`GET /_ping`, the Engine's own health check,
   * which answers `OK` as text); false for anything else that listens there (a gRPC runtime).
   */
  ping(): Promise<boolean>;
}

export interface EngineClientOptions {
  /**
   * Where this process opens the socket, when it differs from what the runtime calls it (nsenter
   * mode: through the node's root, `/proc/<pid>/root`); asked once. Errors still name `socket`.
   */
  openPath?: () => Promise<string>;
  /** Upper bound of one call, read at each call (the agent's deadline shortens it). */
  timeoutMs: () => number;
}

/** Largest answer read (an inventory of 10,000 images is ~5 MiB). */
const MAX_BODY = 256 * 1024 * 1024;

export function createEngineClient(socket: string, options: EngineClientOptions): EngineClient {
  let opened: Promise<string> | undefined;
  const call = async (method: "GET" | "DELETE", path: string) => {
    opened ??= options.openPath?.() ?? Promise.resolve(socket);
    return callEngine(await opened, socket, method, path, options.timeoutMs());
  };
  return {
    socket,
    get: async (path) => jsonOf(await call("GET", path)),
    delete: async (path) => jsonOf(await call("DELETE", path)),
    ping: async () => {
      try {
        const answer = await call("GET", "/_ping");
        return answer.status === 200 && answer.text.trim() === "OK";
      } catch {
        // Not reachable, or not HTTP: not an Engine.
        return false;
      }
    },
  };
}

interface Answer {
  method: string;
  path: string;
  socket: string;
  status: number;
  text: string;
  statusMessage: string;
}

/** A 2xx answer's JSON; EngineError for any other status, with the Engine's own message. */
function jsonOf(answer: Answer): unknown {
  const { method, path, socket, status, text } = answer;
  const body = parseJson(text);
  if (status >= 200 && status < 300) {
    if (text !== "" && body === undefined)
      throw new EngineUnreachableError(
        socket,
        `${method} ${path} answered no JSON: is this a Docker Engine socket?`,
      );
    return body;
  }
  // The Engine's errors are `{"message": "..."}`; anything else is shown as it came.
  const message =
    typeof body === "object" &&
    body !== null &&
    "message" in body &&
    typeof body.message === "string"
      ? body.message
      : text.trim().slice(0, 500) || answer.statusMessage;
  throw new EngineError(method, path, status, message);
}

function callEngine(
  connectPath: string,
  socket: string,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: connectPath,
        path,
        method,
        headers: { Host: "docker", Accept: "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            req.destroy(new Error(`answer larger than ${String(MAX_BODY)} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          resolve({
            method,
            path,
            socket,
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            statusMessage: res.statusMessage ?? "",
          });
        });
        res.on("error", (err) => {
          reject(new EngineUnreachableError(socket, `${method} ${path}: ${err.message}`));
        });
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error(`no answer within ${String(Math.round(timeoutMs / 1000))} s`));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      reject(new EngineUnreachableError(socket, describeSocketError(err, method, path)));
    });
    req.end();
  });
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the caller says what it expected.
    return undefined;
  }
}

function describeSocketError(err: NodeJS.ErrnoException, method: string, path: string): string {
  switch (err.code) {
    case "ENOENT":
      return "no socket there: is dockerd running, and is --socket its socket (dockerd -H)?";
    case "ECONNREFUSED":
      return "nothing accepts connections on it: is dockerd running?";
    case "EACCES":
    case "EPERM":
      return "permission denied: run the agent as root or in the socket's group (usually docker)";
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_VERSION":
      return "it does not speak HTTP: is this a Docker Engine socket, not containerd's or a CRI socket?";
    default:
      return `${method} ${path}: ${err.message}`;
  }
}
