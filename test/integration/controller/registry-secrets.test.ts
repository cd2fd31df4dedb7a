// The registry pull Secrets of --only-if-pullable, checked by the controller before any node starts,
// on the real API server and as the chart's service account (its Role may `get` exactly the
// Secrets named in registryPullSecrets): a usable Secret passes; a missing one, one of another type
// and one whose .dockerconfigjson is no dockerconfig stop the run with exit 2 naming the Secret and
// never its content; a Secret the Role does not name is forbidden, and the error names the value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRegistryPullSecrets } from "../../../src/controller/registry-secrets.js";
import { ConfigError, KubeApiError } from "../../../src/errors.js";
import type { Kube } from "../../../src/kube/api.js";
import { kubectl } from "../../support/cluster.js";
import { controllerOnCluster } from "../../support/controller-on-cluster.js";

const sa = "kic-regsecret";
const NAMED = ["registry-pull", "wrong-type", "bad-content", "not-created"];
const fixture = controllerOnCluster("regsecret", {
  accounts: { [sa]: { allowPodDeletion: true, registryPullSecrets: NAMED } },
  privileged: false,
});
const { ns } = fixture;
const dockerconfig = (auths: unknown) => Buffer.from(JSON.stringify({ auths })).toString("base64");

function secret(name: string, type: string, data: Record<string, string>): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name }, type, data });
}

describe("registry pull Secrets checked before a run", () => {
  let kube: Kube;
  beforeAll(async () => {
    const pw = Buffer.from("kic:s3cret-password").toString("base64");
    for (const input of [
      secret("registry-pull", "kubernetes.io/dockerconfigjson", {
        ".dockerconfigjson": dockerconfig({ "127.0.0.1:5100": { auth: pw } }),
      }),
      secret("wrong-type", "Opaque", {
        password: Buffer.from("s3cret-password").toString("base64"),
      }),
      // The API server checks that the key is JSON, not that it holds auths.
      secret("bad-content", "kubernetes.io/dockerconfigjson", {
        ".dockerconfigjson": Buffer.from('{"password": "s3cret-password"}').toString("base64"),
      }),
      secret("not-named", "kubernetes.io/dockerconfigjson", {
        ".dockerconfigjson": dockerconfig({ "127.0.0.1:5100": { auth: pw } }),
      }),
    ])
      await kubectl(["apply", "-n", ns, "-f", "-"], { input });
    kube = fixture.kube(sa);
  });
  afterAll(() => {
    kube.close();
  });

  it("passes a Secret of type kubernetes.io/dockerconfigjson with usable auths", async () => {
    await expect(checkRegistryPullSecrets(kube, ns, ["registry-pull"])).resolves.toBeUndefined();
  });

  [
    {
      name: "not-created",
      message: `invalid --registry-pull-secret: given "not-created"; no Secret not-created in namespace ${ns}: create it there`,
    },
    {
      name: "wrong-type",
      message: `invalid --registry-pull-secret: given "wrong-type"; Secret ${ns}/wrong-type is of type Opaque; give one of type kubernetes.io/dockerconfigjson`,
    },
    {
      name: "bad-content",
      message: `invalid --registry-pull-secret: given "bad-content"; Secret ${ns}/bad-content: .dockerconfigjson has no "auths" object; fix the Secret`,
    },
  ].forEach((t) => {
    it(`stops the run (exit 2) for ${t.name}, naming it and never its content`, async () => {
      const err = await checkRegistryPullSecrets(kube, ns, ["registry-pull", t.name]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      expect((err as Error).message).toContain(t.message);
      expect((err as Error).message).not.toContain("s3cret-password");
    });
  });

  it("a Secret the chart's Role does not name is forbidden, and the error says which value grants it", async () => {
    const err = await checkRegistryPullSecrets(kube, ns, ["not-named"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(403);
    expect((err as Error).message).toContain(`forbidden: get secrets in namespace ${ns}`);
    expect((err as Error).message).toContain(
      "granted by the chart's Role on exactly the Secrets in registryPullSecrets",
    );
  });
});
