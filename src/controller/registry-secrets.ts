// The registry pull Secrets a run mounts into its helper pods, checked before any node starts: each
// must exist in the helper pods' namespace, be of type kubernetes.io/dockerconfigjson and hold a
// usable `.dockerconfigjson`. Otherwise every helper pod would wait for a volume that never comes
// (a missing Secret), or every registry would refuse (a wrong one): the run stops at once with
// exit 2 and says which Secret and why. The Secret's content is parsed here and never printed.
import { ConfigError } from "../errors.js";
import type { Kube } from "../kube/api.js";
import { statusOf, toKubeApiError } from "../kube/errors.js";
import { parseDockerConfig } from "../registry/credentials.js";

const TYPE = "kubernetes.io/dockerconfigjson";
const KEY = ".dockerconfigjson";

export async function checkRegistryPullSecrets(
  kube: Pick<Kube, "core">,
  namespace: string,
  names: readonly string[],
): Promise<void> {
  for (const name of names) {
    let secret: Awaited<ReturnType<Kube["core"]["readNamespacedSecret"]>>;
    try {
      secret = await kube.core.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if (statusOf(err) === 404)
        throw new ConfigError(
          "--registry-pull-secret",
          name,
          `no Secret ${name} in namespace ${namespace}: create it there (kubectl create secret docker-registry ${name} -n ${namespace} --docker-server=... --docker-username=... --docker-password=...)`,
        );
      throw toKubeApiError(err, { verb: "get", resource: "secrets", namespace });
    }
    if (secret.type !== TYPE)
      throw new ConfigError(
        "--registry-pull-secret",
        name,
        `Secret ${namespace}/${name} is of type ${secret.type ?? "(none)"}; give one of type ${TYPE}`,
      );
    const data = secret.data?.[KEY];
    if (data === undefined)
      throw new ConfigError(
        "--registry-pull-secret",
        name,
        `Secret ${namespace}/${name} has no ${KEY} key; give one of type ${TYPE}`,
      );
    const parsed = parseDockerConfig(
      Buffer.from(data, "base64").toString("utf8"),
      `Secret ${namespace}/${name}`,
    );
    if ("problem" in parsed)
      throw new ConfigError("--registry-pull-secret", name, `${parsed.problem}; fix the Secret`);
  }
}
