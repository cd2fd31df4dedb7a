// A real OCI registry (Debian's docker-registry, distribution 2.8; installed by
// test/cluster/install-deps.sh) that a test starts on loopback and a free port, in a temp dir, with
// the authentication a private registry has:
//   "none"      anyone may pull
//   "htpasswd"  Basic auth with one user (distribution's htpasswd access controller)
//   "token"     Docker Hub's scheme: the registry answers 401 `WWW-Authenticate: Bearer realm=...`
//               and accepts only JWTs signed by the token service it trusts (its rootcertbundle);
//               the token service here checks the same user (Basic) and signs with a key of its own.
// Sample images are pushed with skopeo, as test/cluster/registry.sh does.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, createSign, randomBytes, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import {
  startContainerd,
  type ContainerdOptions,
  type ContainerdRuntime,
  type StandaloneContainerd,
} from "./containerd.js";
import { freePort } from "./pushgateway.js";
import { tempDir } from "./temp-dir.js";

const execFileAsync = promisify(execFile);

export const REGISTRY_BIN = "/usr/bin/docker-registry";
const repoRoot = join(import.meta.dirname, "..", "..");

export type RegistryAuth = "none" | "htpasswd" | "token";

export interface TestRegistry {
  /** host:port, the first component of its images' names. */
  host: string;
  user: string;
  password: string;
  /**
   * Pushes a small sample image (its own content) and returns its manifest digest. Asynchronous:
   * the token service answers skopeo from this process.
   */
  push(ref: string): Promise<string>;
  /** Deletes a manifest by digest (deletes are enabled): every tag on it is gone too. */
  deleteManifest(repository: string, digest: string): Promise<void>;
  /** Token requests the token service answered (auth "token" only): their query strings. */
  tokenRequests: string[];
  stop(): Promise<void>;
}

/**
 * bcrypt hash of "kic-test-password" (distribution's htpasswd file takes bcrypt only, and nothing
 * on this machine makes bcrypt without an extra package): a test credential, made once with
 * python3's crypt (METHOD_BLOWFISH, cost 5: the registry checks it at every request, and cost 12
 * took seconds a check on a busy machine).
 */
const TEST_USER = "kic";
const TEST_PASSWORD = "kic-test-password";
const TEST_BCRYPT = "$2b$05$XgIG2CeCpk92sNzXwIT17O8f/ksK/5XWvyCY1NxfySnhOfc6pJ.ne";

export async function startRegistry(auth: RegistryAuth = "none"): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "kic-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${String(port)}`;
  const tokenRequests: string[] = [];
  let tokenServer: Server | undefined;
  let authYaml = "";
  if (auth === "htpasswd") {
    writeFileSync(join(dir, "htpasswd"), `${TEST_USER}:${TEST_BCRYPT}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: kic-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    const signer = makeSigner(dir);
    const tokenPort = await freePort();
    tokenServer = await serveTokens(tokenPort, signer, tokenRequests);
    authYaml = `auth:
  token:
    realm: http://127.0.0.1:${String(tokenPort)}/token
    service: kic-test-registry
    issuer: kic-test-issuer
    rootcertbundle: ${signer.certFile}
`;
  }
  mkdirSync(join(dir, "data"));
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: ${join(dir, "data")} }
  delete: { enabled: true }
  maintenance: { uploadpurging: { enabled: false } }
http:
  addr: ${host}
  secret: kic-test
${authYaml}`,
  );
  let log = "";
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log}`);
    // Any HTTP answer (401 with auth) means it listens.
    const up = await fetch(`http://${host}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry not answering on ${host} within 15 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const creds = auth === "none" ? [] : ["--dest-creds", `${TEST_USER}:${TEST_PASSWORD}`];
  return {
    host,
    user: TEST_USER,
    password: TEST_PASSWORD,
    tokenRequests,
    async push(ref) {
      const work = mkdtempSync(join(dir, "push-"));
      try {
        await execFileAsync("node", [
          join(repoRoot, "test/cluster/oci-image.mjs"),
          ...["--name", ref, "--salt", `${ref}-${randomBytes(4).toString("hex")}`, "--pad", "1024"],
          ...["--out", join(work, "image.tar")],
        ]);
        mkdirSync(join(work, "layout"));
        await execFileAsync("tar", ["-xf", join(work, "image.tar"), "-C", join(work, "layout")]);
        await execFileAsync("skopeo", [
          "copy",
          "--quiet",
          "--dest-tls-verify=false",
          ...creds,
          "--digestfile",
          join(work, "digest"),
          `oci:${join(work, "layout")}:${ref}`,
          `docker://${ref}`,
        ]);
        return readFileSync(join(work, "digest"), "utf8").trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    async deleteManifest(repository, digest) {
      const headers: Record<string, string> = {};
      if (auth === "htpasswd")
        headers.authorization = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString("base64")}`;
      if (auth === "token") {
        const url = `http://127.0.0.1:${String((tokenServer?.address() as { port: number }).port)}/token?service=kic-test-registry&scope=repository:${repository}:delete`;
        const res = await fetch(url, {
          headers: {
            authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString("base64")}`,
          },
        });
        headers.authorization = `Bearer ${((await res.json()) as { token: string }).token}`;
      }
      const res = await fetch(`http://${host}/v2/${repository}/manifests/${digest}`, {
        method: "DELETE",
        headers,
      });
      if (res.status !== 202) throw new Error(`DELETE manifest answered ${String(res.status)}`);
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await new Promise<void>((resolve) => {
        if (tokenServer === undefined) resolve();
        else
          tokenServer.close(() => {
            resolve();
          });
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Signer {
  certFile: string;
  /** The signing certificate, DER in base64 (the JWT header's x5c). */
  certDer: string;
  sign(data: string): Buffer;
}

/** An RSA key and a self-signed certificate for it (openssl), the registry's rootcertbundle. */
function makeSigner(dir: string): Signer {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
      ...["-subj", "/CN=kic-test-token-issuer", "-keyout", keyFile, "-out", certFile],
    ],
    { stdio: "ignore" },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString("base64");
  return {
    certFile,
    certDer,
    sign: (data) => createSign("RSA-SHA256").update(data).sign(key),
  };
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * A token service as distribution's token auth expects one: Basic credentials of the test user get
 * the actions asked for in `scope`; no or other credentials get 401.
 */
async function serveTokens(port: number, signer: Signer, requests: string[]): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://token");
    requests.push(url.search);
    const expected = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end('{"details":"bad credentials"}');
      return;
    }
    const [type, name, actions] = (url.searchParams.get("scope") ?? "::").split(":");
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [signer.certDer] };
    const claims = {
      iss: "kic-test-issuer",
      sub: TEST_USER,
      aud: url.searchParams.get("service") ?? "",
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access: [{ type, name, actions: (actions ?? "").split(",").concat(["pull"]) }],
    };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${unsigned}.${b64url(signer.sign(unsigned))}`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

/** Pull credentials for `host` as a `.dockerconfigjson` (a pull Secret's key) holds them. */
export function dockerConfigJson(host: string, user: string, password: string): string {
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [host]: { auth } } });
}

/**
 * containerd's per-registry config (config_path) under `certsDir`: each registry is plain HTTP,
 * for pull and resolve.
 */
export function writePlainHttpHosts(certsDir: string, registries: { host: string }[]): void {
  for (const r of registries) {
    mkdirSync(join(certsDir, r.host), { recursive: true });
    writeFileSync(
      join(certsDir, r.host, "hosts.toml"),
      `server = "http://${r.host}"\n\n[host."http://${r.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
}

/**
 * A standalone containerd (startContainerd with `options`) that pulls from `registries` over plain
 * HTTP: their hosts.toml under `<dir>/certs.d`, its config_path, as test/cluster/containerd.sh
 * configures the cluster's node.
 */
export function startContainerdPullingFrom(
  dir: string,
  registries: { host: string }[],
  options: Omit<ContainerdOptions, "registryConfigPath"> = {},
): Promise<StandaloneContainerd> {
  const certs = join(dir, "certs.d");
  writePlainHttpHosts(certs, registries);
  return startContainerd({ ...options, registryConfigPath: certs });
}

/** Pushes each of `refs` to the one of `registries` its host names; returns ref -> manifest digest. */
export async function pushEach(
  registries: TestRegistry[],
  refs: string[],
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const ref of refs) {
    const registry = registries.find((r) => ref.startsWith(`${r.host}/`));
    if (registry === undefined) throw new Error(`no registry of this test has ${ref}`);
    digests.set(ref, await registry.push(ref));
  }
  return digests;
}

/**
 * A pull Secret for `registry` as the helper pod sees it mounted (writeMountedSecret), with the
 * registry's own user and `password` (its own unless given). Returns the file's path.
 */
export function mountedPullSecret(
  dir: string,
  name: string,
  registry: TestRegistry,
  password = registry.password,
): string {
  return writeMountedSecret(dir, name, dockerConfigJson(registry.host, registry.user, password));
}

/**
 * A pull Secret as the helper pod sees it mounted: `<dir>/<name>/.dockerconfigjson` holding
 * `config`. Returns the file's path.
 */
export function writeMountedSecret(dir: string, name: string, config: string): string {
  mkdirSync(join(dir, name), { recursive: true });
  const file = join(dir, name, ".dockerconfigjson");
  writeFileSync(file, config);
  return file;
}

/** What pullingNode starts: two registries and a node runtime that pulls from both. */
export interface PullingNode {
  /** Open to anyone (no auth). */
  readonly open: TestRegistry;
  /** Private: htpasswd, with the registry's user and password. */
  readonly locked: TestRegistry;
  readonly cd: StandaloneContainerd;
  /** The manifest digest of each pushed ref. */
  readonly digests: ReadonlyMap<string, string>;
}

/**
 * For the describe block (or file) this is called in: an open registry and a private one
 * (htpasswd) on loopback, `refs(open, locked)` pushed to them, and containerd `runtime` pulling
 * from both over plain HTTP (startContainerdPullingFrom), started before its tests and stopped
 * after them, also when a later step of the start failed. Returns its getter.
 */
export function pullingNode(
  runtime: ContainerdRuntime,
  refs: (open: TestRegistry, locked: TestRegistry) => string[],
): () => PullingNode {
  const dir = tempDir("kic-pulling-node-");
  const started: { stop(): unknown }[] = [];
  let node: PullingNode | undefined;
  beforeAll(async () => {
    const open = await startRegistry("none");
    started.push(open);
    const locked = await startRegistry("htpasswd");
    started.push(locked);
    const digests = await pushEach([open, locked], refs(open, locked));
    const cd = await startContainerdPullingFrom(dir, [open, locked], { runtime });
    started.push(cd);
    node = { open, locked, cd, digests };
  });
  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
  });
  return () => {
    if (node === undefined) throw new Error("no registries yet: their beforeAll has not run");
    return node;
  };
}

/** A registry and the one image pushed to it (registryWithImage). */
export interface RegistryImage {
  readonly registry: TestRegistry;
  /** `<host>/<path>` */
  readonly ref: string;
  /** The manifest digest the registry serves for it. */
  readonly digest: string;
}

/**
 * A registry with `auth`, started for the describe block (or file) this is called in with one
 * image `<host>/<path>` pushed, and stopped after its tests. Its fields are there once the block's
 * beforeAll ran.
 */
export function registryWithImage(auth: RegistryAuth, path: string): RegistryImage {
  let started: RegistryImage | undefined;
  beforeAll(async () => {
    const registry = await startRegistry(auth);
    const ref = `${registry.host}/${path}`;
    started = { registry, ref, digest: await registry.push(ref) };
  });
  afterAll(() => started?.registry.stop());
  const must = (): RegistryImage => {
    if (started === undefined) throw new Error("no registry yet: its beforeAll has not run");
    return started;
  };
  return {
    get registry() {
      return must().registry;
    },
    get ref() {
      return must().ref;
    },
    get digest() {
      return must().digest;
    },
  };
}
