// A synthetic node inventory shaped like a busy production node: many versions of many apps from a
// few registries, repo digests beside tags, a pause image for every sandbox, containers in every
// state referring to images by id and by name, and pods that need images no container runs now.
// Deterministic (seeded), so every run plans the same inventory.
import { createHash } from "node:crypto";
import type {
  ContainerRecord,
  ContainerState,
  ImageRecord,
  Inventory,
  SandboxRecord,
} from "../../src/agent/inventory.js";

export interface InventoryShape {
  images: number;
  containers: number;
  sandboxes: number;
  /** References the controller passes as --protect (images pods on the node need). */
  protect: number;
}

/** mulberry32: a tiny seeded PRNG, enough to spread names and states. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (text: string) => createHash("sha256").update(text).digest("hex");

const REGISTRIES = [
  "registry.example.com",
  "docker.io",
  "quay.io",
  "ghcr.io",
  "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
];
const TEAMS = ["acme", "payments", "search", "infra", "data", "web", "ml", "platform"];
export const PAUSE = "registry.k8s.io/pause:3.10";

export function syntheticInventory(
  shape: InventoryShape,
  seed = 42,
): { inventory: Inventory; protect: string[] } {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const now = Date.now();
  const images: ImageRecord[] = [];
  const pauseId = `sha256:${hex("pause")}`;
  images.push({
    id: pauseId,
    names: [PAUSE, `registry.k8s.io/pause@sha256:${hex("pause-manifest")}`],
    digests: [`sha256:${hex("pause-manifest")}`],
    sizeBytes: 320_000,
    pinned: true,
    recordedAtMs: now - 90 * 86_400_000,
    refs: [PAUSE, pauseId],
  });
  for (let i = 1; i < shape.images; i++) {
    const registry = pick(REGISTRIES);
    const repo = `${registry}/${pick(TEAMS)}/app-${Math.floor(rnd() * 400)}`;
    const id = `sha256:${hex(`image-${i}`)}`;
    const manifest = `sha256:${hex(`manifest-${i}`)}`;
    const names = [`${repo}:v${i}`];
    if (rnd() < 0.3) names.push(`${repo}:release-${i % 50}`);
    if (rnd() < 0.05) names.push(`${repo}:latest`);
    names.push(`${repo}@${manifest}`);
    images.push({
      id,
      names,
      digests: [manifest],
      sizeBytes: Math.floor(5e6 + rnd() * 500e6),
      pinned: rnd() < 0.01,
      recordedAtMs: now - Math.floor(rnd() * 60 * 86_400_000),
      refs: [...names.filter((n) => !n.includes("@")), id],
    });
  }
  const states: ContainerState[] = ["running", "running", "running", "exited", "created"];
  const sandboxes: SandboxRecord[] = [];
  for (let i = 0; i < shape.sandboxes; i++) {
    sandboxes.push({ id: hex(`sandbox-${i}`), pod: `ns-${i % 20}/pod-${i}`, image: PAUSE });
  }
  const containers: ContainerRecord[] = [];
  for (let i = 0; i < shape.containers; i++) {
    const image = pick(images.slice(1));
    const name = image.names[0] ?? image.id;
    // CRI reports the image by id (imageRef) and by the name the pod asked for; some runtimes by
    // repo digest only.
    const refs = rnd() < 0.2 ? [image.names[image.names.length - 1] ?? image.id] : [image.id, name];
    const record: ContainerRecord = {
      id: hex(`container-${i}`),
      name: `c-${i}`,
      state: pick(states),
      images: refs,
    };
    if (shape.sandboxes > 0) record.pod = sandboxes[i % shape.sandboxes]?.pod ?? "";
    containers.push(record);
  }
  const protect: string[] = [];
  for (let i = 0; i < shape.protect; i++) {
    const image = pick(images.slice(1));
    const name = image.names[0] ?? image.id;
    // The API server's view: spec images as written (often short), imageID as a repo digest.
    const form = rnd();
    protect.push(
      form < 0.4
        ? name
        : form < 0.7
          ? (image.names[image.names.length - 1] ?? image.id)
          : name.replace(/^docker\.io\//, ""),
    );
  }
  return {
    inventory: {
      images,
      containers,
      sandboxes,
      configuredSandboxImage: PAUSE,
      imageTimesKnown: true,
    },
    protect,
  };
}
