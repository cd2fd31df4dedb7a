// Pre-pull on one node: each listed image is looked up in the runtime first ("already present"),
// else pulled through the runtime's own pull (the CRI's, as the kubelet pulls: the node's registry
// configuration, mirrors and hosts.toml apply), with the pull Secret's credentials for its registry.
// A failure worth another try (the registry did not answer) is retried after a backoff that doubles;
// one that will not change (not found, unauthorized) is reported at once. Nothing starts after the
// deadline: what is left is reported as not attempted, so the node's result is always complete.
import { manifestEndpoint } from "../registry/endpoint.js";
import {
  credentialFor,
  type CredentialStore,
  type RegistryCredential,
} from "../registry/credentials.js";
import { classifyPullFailure, pullTimedOut, type PullAttempt } from "./pull-failure.js";
import type { PullOutcome } from "../run-model/pull-result.js";

export { countOutcomes, type PullOutcome, type PullOutcomeKind } from "../run-model/pull-result.js";

/** The runtime calls pre-pull needs (the crictl adapter implements them). */
export interface PullClient {
  /** The image's id if the runtime has an image of that name, else undefined. */
  imageId(ref: string): Promise<string | undefined>;
  /**
   * Pulls `ref`; the credential reaches the client in its environment, never its argv. The pull is
   * stopped after `timeoutMs` (what the node's deadline leaves), or the client's own longest pull;
   * `timedOut` says it was stopped.
   */
  pull(
    ref: string,
    credential: RegistryCredential | undefined,
    timeoutMs?: number,
  ): Promise<
    { ok: true; id: string | undefined } | { ok: false; stderr: string; timedOut?: boolean }
  >;
}

export interface PullOptions {
  credentials: CredentialStore;
  /** Further attempts after a failure worth retrying. @default 2 */
  retries: number;
  /** The first backoff; each further one doubles. @default 5 s */
  backoffMs: number;
  /** Epoch ms: no pull starts after it, and no backoff runs past it. */
  deadlineMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Aborted on SIGTERM: no further pull starts; the rest are not attempted. */
  signal?: AbortSignal;
  /** Called as each image is done, for progress in the log. */
  onOutcome?: (outcome: PullOutcome) => void;
}

export async function pullImages(
  images: readonly string[],
  client: PullClient,
  options: PullOptions,
): Promise<PullOutcome[]> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = options.deadlineMs ?? Infinity;
  const out: PullOutcome[] = [];
  for (const image of images) {
    const started = now();
    const done = (o: Omit<PullOutcome, "image" | "durationMs">) => {
      const outcome: PullOutcome = { image, ...o, durationMs: now() - started };
      out.push(outcome);
      options.onOutcome?.(outcome);
    };
    if (options.signal?.aborted === true) {
      done({ outcome: "not-attempted", detail: "the agent was stopped (SIGTERM)", attempts: 0 });
      continue;
    }
    if (now() >= deadline) {
      done({ outcome: "not-attempted", detail: "the node's deadline came first", attempts: 0 });
      continue;
    }
    const present = await client.imageId(image);
    if (present !== undefined) {
      done({ outcome: "present", id: present, attempts: 0 });
      continue;
    }
    const registry = manifestEndpoint(image)?.registry;
    const credential =
      registry === undefined ? undefined : credentialFor(options.credentials, registry);
    const attempt: PullAttempt = { registry, credentialSource: credential?.source };
    let attempts = 0;
    let backoff = options.backoffMs;
    for (;;) {
      attempts++;
      const pullStarted = now();
      // A pull that hangs (a registry that accepts and never answers, an image too large for the
      // time left) is stopped at the deadline, so the node's result is still printed in time.
      const left = deadline - pullStarted;
      const pulled = await client.pull(image, credential, Number.isFinite(left) ? left : undefined);
      if (pulled.ok) {
        done({
          outcome: "pulled",
          ...(pulled.id === undefined ? {} : { id: pulled.id }),
          attempts,
        });
        break;
      }
      const failure =
        pulled.timedOut === true
          ? pullTimedOut(now() - pullStarted, now() >= deadline - 1000, attempt)
          : classifyPullFailure(pulled.stderr, attempt);
      const last = !failure.retry || attempts > options.retries || now() + backoff >= deadline;
      if (last) {
        done({ outcome: "failed", detail: failure.reason, failure: failure.kind, attempts });
        break;
      }
      await sleep(backoff);
      backoff *= 2;
    }
  }
  return out;
}
