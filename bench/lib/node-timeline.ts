// Where a node's time goes on the real kubelet, from four clocks on this one machine:
//   - a pod watch of its own (`kubectl get pods -w`): when each change of the helper pod reached a
//     watcher (the controller's watch sees the same events), stamped on arrival;
//   - containerd's log (the node's runtime, nanosecond times): the kubelet's CRI calls for the pod
//     (sandbox, create, start) and the container's exit;
//   - the agent's own log records (pino `time`, ms) read with the pod's log, and its result's
//     durations (`start`: from the process's start to the run's);
//   - the controller's helperMs (create returned -> result read).
// Every point is in ms after the pod's ADDED event reached the watch (≈ the create call returning).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";

export interface WatchEvent {
  at: number;
  type: string;
  name: string;
  /** Phase and the agent container's state, e.g. `Running/running`. */
  state: string;
}

/** A background `kubectl get pods -w` of the namespace; `events` fills as changes arrive. */
export function startPodWatch(
  kubectl: string,
  kubeconfig: string,
  namespace: string,
): { events: WatchEvent[]; stop: () => void } {
  const events: WatchEvent[] = [];
  const child: ChildProcess = spawn(
    kubectl,
    [
      "--kubeconfig",
      kubeconfig,
      "get",
      "pods",
      "-n",
      namespace,
      "-w",
      "--output-watch-events",
      "-o",
      "json",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  // kubectl prints one JSON object per event, indented: split at each top-level object's end.
  let text = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  child.stdout?.on("data", (chunk: Buffer) => {
    const at = Date.now();
    const from = text.length;
    text += chunk.toString("utf8");
    for (let i = from; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === "\\") escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") {
        if (depth === 0) start = i;
        depth++;
      } else if (c === "}") {
        depth--;
        if (depth === 0) {
          const event = parseEvent(text.slice(start, i + 1), at);
          if (event !== undefined) events.push(event);
        }
      }
    }
    if (depth === 0) {
      text = "";
      start = 0;
    }
  });
  return {
    events,
    stop: () => {
      child.kill();
    },
  };
}

function parseEvent(json: string, at: number): WatchEvent | undefined {
  try {
    const event = JSON.parse(json) as {
      type?: string;
      object?: {
        metadata?: { name?: string };
        status?: { phase?: string; containerStatuses?: { state?: Record<string, unknown> }[] };
      };
    };
    const container = Object.keys(event.object?.status?.containerStatuses?.[0]?.state ?? {});
    return {
      at,
      type: event.type ?? "",
      name: event.object?.metadata?.name ?? "",
      state: `${event.object?.status?.phase ?? "-"}/${container.join(",") || "-"}`,
    };
  } catch {
    // Not an event object: nothing to record.
    return undefined;
  }
}

/** The size of a log file now: read from here after the run. */
export const logOffset = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

function readFrom(file: string, offset: number): string {
  const size = logOffset(file);
  if (size <= offset) return "";
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export interface RuntimeEvents {
  sandboxStart?: number;
  sandboxReady?: number;
  containerCreate?: number;
  containerCreated?: number;
  containerStart?: number;
  containerStarted?: number;
  containerExit?: number;
  sandboxStop?: number;
  sandboxStopped?: number;
}

/** containerd's CRI records of one pod (by name) since `offset`, times in epoch ms. */
export function runtimeEvents(file: string, offset: number, pod: string): RuntimeEvents {
  const out: RuntimeEvents = {};
  let sandbox: string | undefined;
  let container: string | undefined;
  for (const line of readFrom(file, offset).split("\n")) {
    const time = /time="([^"]+)"/.exec(line)?.[1];
    if (time === undefined) continue;
    const at = Date.parse(time);
    const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1]?.replace(/\\"/g, '"') ?? "";
    if (msg.includes(`RunPodSandbox for &PodSandboxMetadata{Name:${pod},`)) {
      const id = /returns sandbox id "([0-9a-f]+)"/.exec(msg)?.[1];
      if (id === undefined) out.sandboxStart = at;
      else {
        sandbox = id;
        out.sandboxReady = at;
      }
    } else if (
      sandbox !== undefined &&
      msg.startsWith(`CreateContainer within sandbox "${sandbox}"`)
    ) {
      const id = /returns container id "([0-9a-f]+)"/.exec(msg)?.[1];
      if (id === undefined) out.containerCreate = at;
      else {
        container = id;
        out.containerCreated = at;
      }
    } else if (container !== undefined && msg.startsWith(`StartContainer for "${container}"`)) {
      if (msg.includes("returns successfully")) out.containerStarted = at;
      else out.containerStart = at;
    } else if (
      container !== undefined &&
      out.containerExit === undefined &&
      // containerd 1.6 logs no TaskExit at info level; the container's shim goes when it exits.
      ((msg.startsWith("TaskExit event") && msg.includes(container)) ||
        (msg === "shim disconnected" && line.includes(`id=${container}`)))
    ) {
      out.containerExit = at;
    } else if (sandbox !== undefined && msg.startsWith(`StopPodSandbox for "${sandbox}"`)) {
      if (msg.includes("returns successfully")) out.sandboxStopped ??= at;
      else out.sandboxStop ??= at;
    }
  }
  return out;
}

export interface AgentRecord {
  /** pino's time (ms). */
  time: number;
  msg: string;
}

/** The agent's JSON records from its pod log. */
export function agentRecords(log: string): AgentRecord[] {
  const out: AgentRecord[] = [];
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const r = JSON.parse(line) as { time?: unknown; msg?: unknown };
      if (typeof r.time === "number" && typeof r.msg === "string")
        out.push({ time: r.time, msg: r.msg });
    } catch {
      // A line of another shape (a partial line of the CRI log format): not a record.
    }
  }
  return out;
}

export type Timeline = Record<string, number | undefined>;

/**
 * The run's points in ms after the ADDED event: the watch's arrivals (`watch <phase/state>`),
 * the runtime's calls, the agent's process start and records, and the controller's result read.
 */
export function nodeTimeline(input: {
  pod: string;
  watch: readonly WatchEvent[];
  runtime: RuntimeEvents;
  agent: readonly AgentRecord[];
  /** The agent result's durationsMs (`start`: process start -> run start, where the agent says). */
  agentMs: { start?: number; total: number } | undefined;
  helperMs: number | undefined;
}): Timeline {
  const own = input.watch.filter((e) => e.name === input.pod);
  const added = own.find((e) => e.type === "ADDED")?.at;
  if (added === undefined) return {};
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - added);
  const line: Timeline = {};
  const seen = new Set<string>();
  for (const e of own) {
    const key = `watch ${e.type === "DELETED" ? "deleted" : e.state}`;
    if (seen.has(key)) continue;
    seen.add(key);
    line[key] = rel(e.at);
  }
  const r = input.runtime;
  line["runtime: sandbox requested"] = rel(r.sandboxStart);
  line["runtime: sandbox ready"] = rel(r.sandboxReady);
  line["runtime: container create"] = rel(r.containerCreate);
  line["runtime: container created"] = rel(r.containerCreated);
  line["runtime: container start"] = rel(r.containerStart);
  line["runtime: container started"] = rel(r.containerStarted);
  const result = input.agent.find((a) => a.msg === "agent result");
  const first = input.agent[0];
  if (result !== undefined && input.agentMs !== undefined) {
    const runStart = result.time - input.agentMs.total;
    if (input.agentMs.start !== undefined)
      line["agent: process start"] = rel(runStart - input.agentMs.start);
    line["agent: run start"] = rel(runStart);
  }
  if (first !== undefined) line[`agent: first record (${first.msg})`] = rel(first.time);
  for (const a of input.agent) {
    const key = `agent: ${a.msg}`;
    if (key in line) continue;
    line[key] = rel(a.time);
  }
  line["runtime: container exit"] = rel(r.containerExit);
  line["runtime: sandbox stop (the pod's teardown)"] = rel(r.sandboxStop);
  line["runtime: sandbox stopped"] = rel(r.sandboxStopped);
  line["controller: result read"] = input.helperMs;
  return line;
}
