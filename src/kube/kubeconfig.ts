// Where the Kubernetes credentials come from. client-node's loadFromDefault silently falls back to
// http://localhost:8080 when it finds nothing; here every source is explicit, and finding none, or
// one that cannot be used, is a configuration error naming the flag or variable and the file.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ConfigError } from "../errors.js";

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

/** Where credentials came from: the key to name in an error, and the file. */
interface KubeConfigSource {
  /** `--kubeconfig`, `KUBECONFIG` or `~/.kube/config`. */
  key: string;
  file: string;
}

/** The first line of a parser's message (js-yaml appends a multi-line excerpt of the file). */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? text).trim();
}

/** Reads and parses one kubeconfig file into `config`; every way it can be wrong is a ConfigError. */
function loadFile(config: KubeConfig, from: KubeConfigSource, also = ""): void {
  let text: string;
  try {
    text = readFileSync(from.file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "the file does not exist"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES"
            ? "the file cannot be read (permission denied)"
            : `the file cannot be read (${firstLine(err)})`;
    throw new ConfigError(from.key, from.file, `${why}${also}; give the path of a kubeconfig file`);
  }
  if (text.trim() === "") {
    throw new ConfigError(from.key, from.file, `the file is empty${also}; give a kubeconfig file`);
  }
  try {
    config.loadFromString(text);
  } catch (err) {
    // js-yaml's syntax errors and client-node's "clusters[0].cluster.server is missing".
    throw new ConfigError(from.key, from.file, `not a valid kubeconfig${also}: ${firstLine(err)}`);
  }
}

/**
 * Adds `later`'s clusters, users and contexts to `config` as kubectl merges a KUBECONFIG list: a
 * name already there keeps its first definition (client-node's mergeConfig throws on duplicates
 * instead), and the first current-context set wins.
 */
function mergeFirstWins(config: KubeConfig, later: KubeConfig): void {
  for (const cluster of later.getClusters()) {
    if (config.getCluster(cluster.name) === null) config.addCluster(cluster);
  }
  for (const user of later.getUsers()) {
    if (config.getUser(user.name) === null) config.addUser(user);
  }
  for (const context of later.getContexts()) {
    if (config.getContextObject(context.name) === null) config.addContext(context);
  }
  if (!config.getCurrentContext() && later.getCurrentContext()) {
    config.setCurrentContext(later.getCurrentContext());
  }
}

/**
 * The current context's cluster, checked: a kubeconfig without one (valid YAML of another kind, a
 * current-context naming nothing) or with a server that is not an http(s) URL is a ConfigError
 * naming the file, before any request is made.
 */
function checkCluster(config: KubeConfig, from: KubeConfigSource, contextGiven: boolean): void {
  const current = config.getCurrentContext();
  const contexts = config.getContexts().map((c) => c.name);
  if (config.getContextObject(current) === null) {
    throw new ConfigError(
      contextGiven ? "--context" : from.key,
      contextGiven ? current : from.file,
      contexts.length === 0
        ? `${from.file} holds no contexts; give a kubeconfig file (kubectl config view shows one)`
        : `${from.file} has no current-context${current ? ` named "${current}"` : ""}; give --context, one of ${contexts.join(", ")}`,
    );
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new ConfigError(
      from.key,
      from.file,
      `context "${current}" names a cluster that ${from.file} does not hold`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(cluster.server);
  } catch {
    // Not a URL at all: the same error as a URL of the wrong scheme, below.
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new ConfigError(
      from.key,
      from.file,
      `cluster "${cluster.name}" has server ${JSON.stringify(cluster.server)}; give an https:// URL such as https://10.0.0.1:6443`,
    );
  }
}

/**
 * Loads credentials from, in order: `--kubeconfig`, `$KUBECONFIG`, the pod's service account
 * (in cluster), `~/.kube/config`. Throws ConfigError naming the flag or variable and the file when
 * none is there or the one found cannot be used. Makes no request.
 */
export function loadKubeConfig(
  choice: KubeConfigChoice,
  env: NodeJS.ProcessEnv = process.env,
  inClusterToken = SERVICE_ACCOUNT_TOKEN,
): LoadedKubeConfig {
  const config = new KubeConfig();
  let source: string;
  let from: KubeConfigSource | undefined;
  if (choice.kubeconfig !== undefined) {
    from = { key: "--kubeconfig", file: choice.kubeconfig };
    loadFile(config, from);
    source = `kubeconfig ${choice.kubeconfig} (--kubeconfig)`;
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== "") {
    // A path list, merged like kubectl does (the first file's current-context wins). Each file is
    // read here, so an error names the one that is wrong.
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== "");
    const also = files.length > 1 ? ` (one of KUBECONFIG=${env.KUBECONFIG})` : "";
    for (const [i, file] of files.entries()) {
      const one = i === 0 ? config : new KubeConfig();
      loadFile(one, { key: "KUBECONFIG", file }, also);
      if (one !== config) mergeFirstWins(config, one);
    }
    from = { key: "KUBECONFIG", file: env.KUBECONFIG };
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
    from = { key: "~/.kube/config", file };
    loadFile(config, from);
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
  checkCluster(
    config,
    from ?? { key: "in-cluster config", file: inClusterToken },
    choice.context !== undefined,
  );
  return { config, source };
}
