// The agent's command line as the controller builds it for each helper pod: an argv array, each
// value one element, never a shell string (a pattern or a node name may hold anything).
import type { LogFormat } from "../log.js";
import type { HostExecMode } from "../run-model/agent-result.js";
import type { ClientChoice } from "./agent-options.js";

/** What the controller passes to the agent in a helper pod. */
export interface AgentArgvInput {
  include: readonly string[];
  exclude?: readonly string[];
  protectFile?: string;
  minAge?: string;
  /** --keep-newest, --max-images-per-node, --max-bytes-per-node as given. */
  keepNewest?: string;
  maxImagesPerNode?: string;
  maxBytesPerNode?: string;
  onlyIfPullable?: boolean;
  registryTimeout?: string;
  pullSecretFiles?: readonly string[];
  client?: ClientChoice;
  socket?: string;
  hostExec?: HostExecMode;
  dryRun?: boolean;
  logFormat?: LogFormat;
  nodeName?: string;
  /** --deadline: a duration from the agent's start (`96s`) or a time (`2026-12-07T03:11:36.000Z`). */
  deadline?: string;
}

/** The argv (after `kube-image-cleanup agent`) for the given settings; each value is one element. */
export function agentArgv(input: AgentArgvInput): string[] {
  const argv: string[] = [];
  for (const p of input.include) argv.push(`--include=${p}`);
  for (const p of input.exclude ?? []) argv.push(`--exclude=${p}`);
  if (input.protectFile !== undefined) argv.push(`--protect-file=${input.protectFile}`);
  if (input.minAge !== undefined) argv.push(`--min-age=${input.minAge}`);
  if (input.keepNewest !== undefined) argv.push(`--keep-newest=${input.keepNewest}`);
  if (input.maxImagesPerNode !== undefined)
    argv.push(`--max-images-per-node=${input.maxImagesPerNode}`);
  if (input.maxBytesPerNode !== undefined)
    argv.push(`--max-bytes-per-node=${input.maxBytesPerNode}`);
  // With a value like every other flag: the admission policy admits --flag=value agent flags only.
  if (input.onlyIfPullable === true) argv.push("--only-if-pullable=true");
  if (input.registryTimeout !== undefined) argv.push(`--registry-timeout=${input.registryTimeout}`);
  for (const f of input.pullSecretFiles ?? []) argv.push(`--pull-secret-file=${f}`);
  if (input.client !== undefined) argv.push(`--client=${input.client}`);
  if (input.socket !== undefined) argv.push(`--socket=${input.socket}`);
  if (input.hostExec !== undefined) argv.push(`--host-exec=${input.hostExec}`);
  if (input.dryRun === true) argv.push("--dry-run");
  if (input.logFormat !== undefined) argv.push(`--log-format=${input.logFormat}`);
  if (input.nodeName !== undefined) argv.push(`--node-name=${input.nodeName}`);
  if (input.deadline !== undefined) argv.push(`--deadline=${input.deadline}`);
  return argv;
}
