// The one place that builds Kubernetes clients. client-node's loadFromDefault silently falls back to
// http://localhost:8080 when it finds nothing; here every source is explicit and logged, and finding
// none is a configuration error.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
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

/** Clients for the loaded config; every request they make is counted in `requests`. */
export function createKube(loaded: LoadedKubeConfig, log: Logger): Kube {
  const { config, source } = loaded;
  const server = config.getCurrentCluster()?.server ?? "";
  const requests = createRequestCounter();
  const core: CoreApi = countRequests(config.makeApiClient(CoreV1Api), CORE_CALLS, requests);
  const watch: PodWatch = countRequests(new Watch(config), ["watch"], requests);
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  log.info({ server, source }, "kubernetes credentials");
  return { core, watch, requests, server, source, contextNamespace };
}
