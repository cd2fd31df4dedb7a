// The one place that builds Kubernetes clients, from the credentials kubeconfig.ts loaded (and
// logs which source they came from): one keep-alive HTTPS agent, every call counted, time-limited
// and interruptible, and a network error naming the server.
import { Agent } from "node:https";
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  Watch,
  createConfiguration,
  type RequestContext,
  type SecurityAuthentication,
} from "@kubernetes/client-node";
import { isNetworkError } from "./errors.js";
import { streamingHttpLibrary } from "./text-stream.js";
import type { LoadedKubeConfig } from "./kubeconfig.js";
import type { Logger } from "../log.js";
import {
  CALLS,
  countRequests,
  createRequestCounter,
  limitCalls,
  type AuditApi,
  type AppsApi,
  type BatchApi,
  type WorkloadApi,
  type JobsApi,
  type CallLimits,
  type CoreApi,
  type Kube,
  type PodWatch,
} from "./api.js";

const WORKLOAD_CALLS = [...CALLS.workloadApps, ...CALLS.workloadBatch];

/**
 * Client timeout of the report sinks' calls: an Event or the run report is worth a few seconds at
 * the end of a run, not the controller's grace period after SIGTERM.
 * @default 10 s
 */
export const AUDIT_TIMEOUT_MS = 10_000;

/**
 * How long one application of the kubeconfig's credentials serves the requests that follow. Each
 * application reads the CA, certificate and key files again and makes a new agent; at 50 nodes at
 * once that was ~170 times a second, 5% of the controller's CPU at 1,000 nodes. A rotated
 * certificate or token (client-node caches exec and token-file credentials for longer itself) is
 * used at most this much later.
 * @default 1000 ms
 */
export const CREDENTIALS_REUSE_MS = 1000;

/**
 * The kubeconfig's authentication, with one keep-alive HTTPS agent for every request. client-node
 * 1.x gives each request a new agent: a TLS handshake and a new SecureContext (CA and key parsed)
 * per API call, which was most of the controller's CPU time at 1,000 nodes. Headers (tokens,
 * exec-plugin credentials) come from client-node, applied again after CREDENTIALS_REUSE_MS; a new
 * agent is made when the TLS material changes (rotated client certificates).
 */
export class SharedAgentAuth implements SecurityAuthentication {
  private agent: Agent | undefined;
  private material: readonly unknown[] = [];
  /** The last application: the headers it set and the agent the request got. */
  private applied: { at: number; headers: [string, string][]; agent: unknown } | undefined;

  constructor(
    private readonly config: KubeConfig,
    private readonly now: () => number = Date.now,
  ) {}

  getName(): string {
    return "kubeconfig, shared keep-alive agent";
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const at = this.now();
    const last = this.applied;
    if (last !== undefined && at - last.at < CREDENTIALS_REUSE_MS && at >= last.at) {
      for (const [name, value] of last.headers) context.setHeaderParam(name, value);
      context.setAgent(last.agent as Parameters<RequestContext["setAgent"]>[0]);
      return;
    }
    const before = { ...context.getHeaders() };
    await this.config.applySecurityAuthentication(context);
    const headers = Object.entries(context.getHeaders()).filter(([k, v]) => before[k] !== v);
    this.shareAgent(context);
    this.applied = { at, headers, agent: context.getAgent() };
  }

  private shareAgent(context: RequestContext): void {
    const fresh = context.getAgent();
    // Proxy agents and plain-HTTP servers keep client-node's own agent.
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return;
    const o = fresh.options;
    const material = [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername];
    if (this.agent === undefined || material.some((m, i) => !same(m, this.material[i]))) {
      this.agent?.destroy();
      this.agent = new Agent({ ...o, keepAlive: true, scheduling: "lifo" });
      this.material = material;
    }
    context.setAgent(this.agent);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.applied = undefined;
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

/**
 * A call that gets no answer at all fails with node-fetch's "request to <url with query> failed,
 * reason: connect ECONNREFUSED ...". The operator fixes the kubeconfig, so the message names the
 * server and where the credentials came from instead of the request's URL.
 */
function nameServerOnNetworkErrors<T extends object>(
  core: T,
  calls: readonly (keyof T & string)[],
  server: string,
  source: string,
): T {
  const named = {} as Record<string, unknown>;
  for (const name of calls) {
    const fn = core[name] as (...args: unknown[]) => Promise<unknown>;
    named[name] = (...args: unknown[]) =>
      fn.apply(core, args).catch((err: unknown) => {
        if (isNetworkError(err)) {
          const e = err as Error;
          const reason = /, reason: (.*)$/s.exec(e.message)?.[1] ?? e.message;
          e.message = `${server} (${source}): ${reason}`;
        }
        throw err;
      });
  }
  return named as T;
}

/**
 * Client timeout of every API call (the watch excepted: the server ends it every 5 minutes). A call
 * without an answer by then fails like a lost connection: the node at hand fails, the run goes on.
 * A page of nodes or a helper's log takes well under a second on a healthy server.
 * @default 60 s
 */
export const API_TIMEOUT_MS = 60_000;

/**
 * Calls a SIGTERM does not cut short: deleting helper pods is how an interrupted run cleans up, and
 * reading a stopped helper's log is how it records what that helper deleted (the partial record).
 * Both still end at the client timeout.
 */
const NOT_INTERRUPTED: ReadonlySet<string> = new Set([
  "deleteNamespacedPod",
  "readNamespacedPodLog",
]);
const NONE: ReadonlySet<string> = new Set();

export interface KubeOptions {
  /** @default API_TIMEOUT_MS */
  timeoutMs?: number;
  /**
   * Of the `audit` calls: `report` reads through them and gives them the whole --request-timeout.
   * @default the smaller of timeoutMs and AUDIT_TIMEOUT_MS
   */
  auditTimeoutMs?: number;
}

/** Clients for the loaded config; every request they make is counted in `requests`. */
export function createKube(loaded: LoadedKubeConfig, log: Logger, options: KubeOptions = {}): Kube {
  const { config, source } = loaded;
  const server = config.getCurrentCluster()?.server ?? "";
  const requests = createRequestCounter();
  const auth = new SharedAgentAuth(config);
  // What KubeConfig.makeApiClient does, with the shared agent's authentication instead of the
  // KubeConfig itself.
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: auth },
    // A followed log is read as it arrives (text-stream.ts); every other answer as before.
    httpApi: streamingHttpLibrary(),
  });
  const core = new CoreV1Api(configuration);
  const apps = new AppsV1Api(configuration);
  const batch = new BatchV1Api(configuration);
  const timeoutMs = options.timeoutMs ?? API_TIMEOUT_MS;
  // Every narrow interface: its calls counted, and a network error naming the server.
  const reach = <T extends object>(api: T, calls: readonly (keyof T & string)[]): T =>
    nameServerOnNetworkErrors(countRequests(api, calls, requests), calls, server, source);
  const limit = <T extends object>(
    api: T,
    calls: readonly (keyof T & string)[],
    limits: CallLimits,
  ): T => limitCalls(api, calls, () => limits);
  // The interfaces no SIGTERM cuts short: each call ends at its timeout.
  const timed = <T extends object>(api: T, calls: readonly (keyof T & string)[], ms = timeoutMs) =>
    limit(reach(api, calls), calls, { timeoutMs: ms, interrupt: undefined, exempt: NONE });
  const counted: CoreApi = reach(core, CALLS.core);
  // Two generated clients behind one narrow interface: countRequests returns plain objects of bound calls.
  const workloadsCounted = Object.assign(
    {},
    reach(apps, CALLS.workloadApps),
    reach(batch, CALLS.workloadBatch),
  ) as WorkloadApi;
  const fixed = {
    audit: timed<AuditApi>(
      core,
      CALLS.audit,
      options.auditTimeoutMs ?? Math.min(timeoutMs, AUDIT_TIMEOUT_MS),
    ),
    batch: timed<BatchApi>(batch, CALLS.batch),
    apps: timed<AppsApi>(apps, CALLS.apps),
    jobs: timed<JobsApi>(batch, CALLS.jobs),
  };
  const watch: PodWatch = countRequests(new Watch(config), ["watch"], requests);
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  log.info({ server, source }, "kubernetes credentials");
  const view = (interrupt: AbortSignal | undefined): Kube => ({
    core: limit(counted, CALLS.core, { timeoutMs, interrupt, exempt: NOT_INTERRUPTED }),
    workloads: limit(workloadsCounted, WORKLOAD_CALLS, { timeoutMs, interrupt, exempt: NONE }),
    ...fixed,
    watch,
    requests,
    server,
    source,
    contextNamespace,
    withInterrupt: (signal) => view(signal),
    close: () => {
      auth.close();
    },
  });
  return view(undefined);
}
