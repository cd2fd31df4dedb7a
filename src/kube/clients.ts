// The one place that builds Kubernetes clients. client-node's loadFromDefault silently falls back to
// http://localhost:8080 when it finds nothing; here every source is explicit and logged, and finding
// none is a configuration error.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Agent } from "node:https";
import {
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  Watch,
  createConfiguration,
  type RequestContext,
  type SecurityAuthentication,
} from "@kubernetes/client-node";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  countRequests,
  createRequestCounter,
  type CoreApi,
  type Kube,
  type PodWatch,
} from "./api.js";

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface KubeConfigChoice {
  /** `--kubeconfig`: a file, used as given. */
  kubeconfig?: string | undefined;
  /** `--context`: a context of that kubeconfig. */
  context?: string | undefined;
}

export interface LoadedKubeConfig {
  config: KubeConfig;
  source: string;
}

/**
 * Loads credentials from, in order: `--kubeconfig`, `$KUBECONFIG`, the pod's service account
 * (in cluster), `~/.kube/config`. Throws ConfigError when none is there.
 */
export function loadKubeConfig(
  choice: KubeConfigChoice,
  env: NodeJS.ProcessEnv = process.env,
  inClusterToken = SERVICE_ACCOUNT_TOKEN,
): LoadedKubeConfig {
  const config = new KubeConfig();
  let source: string;
  if (choice.kubeconfig !== undefined) {
    if (!existsSync(choice.kubeconfig)) {
      throw new ConfigError(
        "--kubeconfig",
        choice.kubeconfig,
        "give the path of a kubeconfig file that exists",
      );
    }
    config.loadFromFile(choice.kubeconfig);
    source = `kubeconfig ${choice.kubeconfig} (--kubeconfig)`;
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== "") {
    // loadFromDefault reads $KUBECONFIG (a path list, merged like kubectl does).
    config.loadFromDefault();
    source = `kubeconfig ${env.KUBECONFIG} ($KUBECONFIG)`;
  } else if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(inClusterToken)) {
    config.loadFromCluster();
    source = "in-cluster service account";
  } else {
    const file = join(env.HOME ?? homedir(), ".kube", "config");
    if (!existsSync(file)) {
      throw new ConfigError(
        "--kubeconfig",
        undefined,
        `no credentials found: not in a pod (no $KUBERNETES_SERVICE_HOST and ${inClusterToken}), no $KUBECONFIG, no ${file}; give --kubeconfig`,
      );
    }
    config.loadFromFile(file);
    source = `kubeconfig ${file}`;
  }
  if (choice.context !== undefined) {
    if (config.getContextObject(choice.context) === null) {
      throw new ConfigError(
        "--context",
        choice.context,
        `use one of the contexts in ${source}: ${
          config
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "(none)"
        }`,
      );
    }
    config.setCurrentContext(choice.context);
    source += `, context ${choice.context}`;
  }
  if (config.getCurrentCluster() === null) {
    throw new ConfigError(
      "--context",
      config.getCurrentContext(),
      `${source} has no cluster for its current context`,
    );
  }
  return { config, source };
}

const CORE_CALLS = [
  "listNode",
  "listPodForAllNamespaces",
  "listNamespacedPod",
  "readNamespacedPod",
  "createNamespacedPod",
  "deleteNamespacedPod",
  "readNamespacedPodLog",
  "listNamespacedEvent",
] as const satisfies readonly (keyof CoreApi)[];

/**
 * The kubeconfig's authentication, with one keep-alive HTTPS agent for every request. client-node
 * 1.x gives each request a new agent: a TLS handshake and a new SecureContext (CA and key parsed)
 * per API call, which was most of the controller's CPU time at 1,000 nodes. Headers (tokens,
 * exec-plugin credentials) still come from client-node on every request; a new agent is made when
 * the TLS material changes (rotated client certificates).
 */
class SharedAgentAuth implements SecurityAuthentication {
  private agent: Agent | undefined;
  private material: readonly unknown[] = [];

  constructor(private readonly config: KubeConfig) {}

  getName(): string {
    return "kubeconfig, shared keep-alive agent";
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.config.applySecurityAuthentication(context);
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
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

/** Clients for the loaded config; every request they make is counted in `requests`. */
export function createKube(loaded: LoadedKubeConfig, log: Logger): Kube {
  const { config, source } = loaded;
  const server = config.getCurrentCluster()?.server ?? "";
  const requests = createRequestCounter();
  const auth = new SharedAgentAuth(config);
  // What KubeConfig.makeApiClient does, with the shared agent's authentication instead of the
  // KubeConfig itself.
  const api = new CoreV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: auth },
    }),
  );
  const core: CoreApi = countRequests(api, CORE_CALLS, requests);
  const watch: PodWatch = countRequests(new Watch(config), ["watch"], requests);
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  log.info({ server, source }, "kubernetes credentials");
  return {
    core,
    watch,
    requests,
    server,
    source,
    contextNamespace,
    close: () => {
      auth.close();
    },
  };
}
