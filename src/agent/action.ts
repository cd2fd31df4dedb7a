// What the agent's two actions (clean: agent.ts, pull: pull-action.ts) are given, and the runtime
// record each result carries: which client reached which socket, how (host exec, nsenter target),
// and the runtime's versions.
import type { Logger } from "../log.js";
import type { AgentResult } from "../run-model/agent-result.js";
import type { HostExec } from "./host-exec.js";
import type { RuntimeVersion } from "./runtime.js";

export interface ActionDeps<Report> {
  exec: HostExec;
  log: Logger;
  report: Report;
  /** The clock the durations are measured with; tests hand in their own. */
  now?: () => number;
  /** Epoch ms by which the result must be printed (from --deadline): no batch or pull starts after it. */
  deadlineMs?: number;
  /** When the agent's process started (epoch ms): its result then says how long the start took. */
  processStartMs?: number;
  /** Aborted on SIGTERM: the batch or pull in flight finishes, no other starts, the result is printed. */
  signal?: AbortSignal;
}

/** The action's clock, and the time it started. */
export function actionClock(deps: { now?: () => number }): { now: () => number; t0: number } {
  const now = deps.now ?? Date.now;
  return { now, t0: now() };
}

export function runtimeRecord(
  exec: HostExec,
  client: AgentResult["runtime"]["client"],
  socket: string,
  version: RuntimeVersion,
): AgentResult["runtime"] {
  return {
    client,
    socket,
    hostExec: exec.mode,
    ...(exec.target === undefined ? {} : { nsenterTarget: exec.target }),
    ...version,
  };
}
