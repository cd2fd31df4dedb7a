// The agent on a real container runtime, the fixture of test/integration/agent/: the runtime started
// in temp dirs for a file or a describe block (containerd 1.6 or 2, CRI-O, or a Docker Engine), a
// Scratch to make images and containers in it, the agent run in-process against it, and the
// teardown. RUNTIMES says which clients drive each runtime, for suites parametrised over both.
import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";
import { runAgent } from "../../src/agent/agent.js";
import { createHostExec } from "../../src/agent/host-exec.js";
import { createPrettyReporter, type AgentReporter } from "../../src/agent/report.js";
import { planDeletions, type Plan } from "../../src/agent/plan.js";
import type { Inventory } from "../../src/agent/inventory.js";
import { loadAgentConfig } from "../../src/config/agent-options.js";
import { compilePatterns } from "../../src/config/patterns.js";
import type { AgentResult, RuntimeClientName } from "../../src/run-model/agent-result.js";
import {
  Scratch,
  startContainerd,
  type BuiltImage,
  type ImageStore,
  type StandaloneContainerd,
} from "./containerd.js";
import { startCrio, type StandaloneCrio } from "./crio.js";
import { startDockerd, type StandaloneDockerd } from "./dockerd.js";

/**
 * The runtimes the agent supports, each with the clients that drive it. `ownPidNamespaces`:
 * sandboxes whose containers each get their own PID namespace (CRI-O's pause container gets an
 * oom_score_adj this VM refuses; see Scratch).
 */
export const RUNTIMES = {
  "containerd-1.6": { clients: ["crictl", "ctr"], ownPidNamespaces: false },
  "containerd-2": { clients: ["crictl", "ctr"], ownPidNamespaces: false },
  "cri-o": { clients: ["crictl"], ownPidNamespaces: true },
  docker: { clients: ["docker"], ownPidNamespaces: false },
} as const satisfies Record<
  string,
  { clients: readonly RuntimeClientName[]; ownPidNamespaces: boolean }
>;
export type RuntimeName = keyof typeof RUNTIMES;

export interface AgentOnRuntime {
  readonly runtime: RuntimeName;
  /** The runtime's socket (set once the fixture's beforeAll ran). */
  readonly socket: string;
  /** The PATH the agent gets in direct mode on this runtime. */
  readonly path: string;
  /** Makes images, sandboxes and containers in the runtime; cleaned up at teardown. */
  readonly scratch: Scratch;
  /**
   * A Scratch of the describe block this is called in: made before the block's tests, cleaned up
   * after them (the file's own `scratch` lives until the file is done). Returns its getter: the
   * Scratch exists once the block's beforeAll ran.
   */
  readonly blockScratch: () => () => Scratch;
  /** The containerd started (containerd runtimes only). */
  readonly containerd: StandaloneContainerd;
  /** The CRI-O started (cri-o only). */
  readonly crio: StandaloneCrio;
  /** The Docker Engine started (docker only). */
  readonly dockerd: StandaloneDockerd;
  /**
   * The agent in-process (direct host exec, node "it-node") against this runtime: `args` over the
   * fixture's defaults; the pretty report's lines go to `lines` when given, or `report` is used.
   */
  readonly agent: (
    args: Record<string, unknown>,
    out?: { lines?: string[]; report?: AgentReporter },
  ) => Promise<AgentResult>;
}

/**
 * Starts `runtime` before the tests of the file (or describe block) it is called in, and stops it
 * after them. `setPath`: the process's PATH becomes the runtime's (the agent in direct mode finds
 * its clients there). `containerd`: options for startContainerd. `defaults`: agent arguments every
 * run of `agent()` gets (e.g. a client).
 */
export function agentOnRuntime(
  runtime: RuntimeName = "containerd-1.6",
  opts: {
    setPath?: boolean;
    containerd?: Omit<NonNullable<Parameters<typeof startContainerd>[0]>, "runtime">;
    defaults?: Record<string, unknown>;
  } = {},
): AgentOnRuntime {
  let containerd: StandaloneContainerd | undefined;
  let crio: StandaloneCrio | undefined;
  let dockerd: StandaloneDockerd | undefined;
  let started: { socket: string; path: string; stop(): void } | undefined;
  let scratch: Scratch | undefined;

  /** How images get into the runtime; undefined: containerd's own (Scratch's default). */
  let store: ImageStore | undefined;
  const own = { ownPidNamespaces: RUNTIMES[runtime].ownPidNamespaces };

  beforeAll(async () => {
    if (runtime === "cri-o") {
      started = crio = await startCrio();
      store = crio.store;
    } else if (runtime === "docker") {
      started = dockerd = await startDockerd();
      store = dockerd.store;
    } else {
      started = containerd = await startContainerd({ ...opts.containerd, runtime });
    }
    scratch = new Scratch(started.socket, store, own);
    if (opts.setPath === true) process.env.PATH = started.path;
  });
  afterAll(() => {
    scratch?.cleanup();
    dockerd?.removeContainers();
    started?.stop();
  });

  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`no ${what} on ${runtime} (or the fixture's beforeAll has not run)`);
    return value;
  };
  const fixture: AgentOnRuntime = {
    runtime,
    get socket() {
      return must(started, "runtime").socket;
    },
    get path() {
      return must(started, "runtime").path;
    },
    get scratch() {
      return must(scratch, "scratch");
    },
    get containerd() {
      return must(containerd, "containerd");
    },
    get crio() {
      return must(crio, "CRI-O");
    },
    get dockerd() {
      return must(dockerd, "Docker Engine");
    },
    blockScratch: () =>
      scratchPerBlock(
        () => fixture.socket,
        () => store,
        own,
      ),
    agent: (args, out = {}) => runAgentDirect(fixture.socket, { ...opts.defaults, ...args }, out),
  };
  return fixture;
}

/**
 * The agent in-process against the runtime at `socket`, as its helper pod runs it in direct mode
 * (node "it-node"), logging nowhere; `args` over those. The pretty report's lines go to
 * `out.lines` when given, or `out.report` is used; `out.now` is the agent's clock.
 */
export function runAgentDirect(
  socket: string,
  args: Record<string, unknown>,
  out: { lines?: string[]; report?: AgentReporter; now?: () => number } = {},
): Promise<AgentResult> {
  const config = loadAgentConfig(
    { socket, "host-exec": "direct", "node-name": "it-node", ...args },
    {},
  );
  const lines = out.lines;
  return runAgent(config, {
    exec: createHostExec("direct"),
    log: pino({ level: "silent" }),
    report:
      out.report ??
      createPrettyReporter(lines === undefined ? () => undefined : (l) => lines.push(l)),
    ...(out.now === undefined ? {} : { now: out.now }),
  });
}

/**
 * A Scratch on the runtime at `socket()` for the describe block (or file) this is called in: made
 * before its tests, cleaned up after them; every test names its images uniquely, so they share it.
 * Returns its getter. `store()`: how images get into the runtime (containerd's own by default).
 */
export function scratchPerBlock(
  socket: () => string,
  store: () => ImageStore | undefined = () => undefined,
  own: { ownPidNamespaces?: boolean } = {},
): () => Scratch {
  let current: Scratch | undefined;
  beforeAll(() => {
    current = new Scratch(socket(), store(), own);
  });
  afterAll(() => {
    current?.cleanup();
  });
  return () => {
    if (current === undefined) throw new Error("no block scratch: its beforeAll has not run");
    return current;
  };
}

/** The plan for `inventory` with `include` alone (no exclude, nothing protected), as of now. */
export function planIncluding(inventory: Inventory, include: string): Plan {
  return planDeletions(inventory, {
    include: compilePatterns("--include", [include], "include"),
    exclude: [],
    protect: [],
    nowMs: Date.now(),
  });
}

/** Image id -> keep reason, for every image kept for a reason other than not matching. */
export const keptReasons = (r: AgentResult): Record<string, string> =>
  Object.fromEntries(r.kept.filter((k) => k.reason !== "no-match").map((k) => [k.id, k.reason]));

/** The images of the agent's main scenario: two to delete, one per container state, one excluded, one protected. */
export type ScenarioImages = Record<
  "del1" | "del2" | "running" | "exited" | "created" | "excluded" | "protected",
  BuiltImage
>;

/** The scenario's images the agent keeps: one per container state, the excluded and the protected. */
export const scenarioKept = (images: ScenarioImages): BuiltImage[] => [
  images.running,
  images.exited,
  images.created,
  images.excluded,
  images.protected,
];

/**
 * The scenario's keep reasons by image id (as keptReasons gives them): the three in containers
 * in use, one excluded, one protected. `id`: the runtime's name for an image's id (CRI-O reports
 * bare hex).
 */
export function scenarioKeeps(
  images: ScenarioImages,
  id: (image: BuiltImage) => string = (image) => image.id,
): Record<string, string> {
  return {
    [id(images.running)]: "in-use",
    [id(images.exited)]: "in-use",
    [id(images.created)]: "in-use",
    [id(images.excluded)]: "excluded",
    [id(images.protected)]: "protected",
  };
}

/**
 * Makes the scenario's images `<prefix>/<role>:1` in `scratch`; the three that containers will use
 * are busybox-based (they must run). `pad`: bytes of filler per image.
 */
export function scenarioImages(scratch: Scratch, prefix: string, pad?: number): ScenarioImages {
  const make = (name: string, busybox = false) =>
    scratch.image(`${prefix}/${name}:1`, pad === undefined ? { busybox } : { busybox, pad });
  return {
    del1: make("del1"),
    del2: make("del2"),
    running: make("running", true),
    exited: make("exited", true),
    created: make("created", true),
    excluded: make("excluded"),
    protected: make("protected"),
  };
}
