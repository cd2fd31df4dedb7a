// Which nodes `run` visits: a label selector, names to take or leave, and the states to skip.
// Selection itself is src/controller/node-selection.ts; these are its options, declared once.
import type { Options } from "yargs";
import { ConfigError } from "../errors.js";
import { nameList } from "./checks.js";

export const DEFAULT_NODE_SELECTOR = "kubernetes.io/os=linux";

export const nodeOptions = {
  "node-selector": {
    // kubectl's -l/--selector: here it selects nodes, as in `kubectl get nodes -l ...`.
    alias: ["l", "selector"],
    type: "string",
    default: DEFAULT_NODE_SELECTOR,
    describe:
      "clean only nodes matching this label selector (kubectl syntax); the default keeps Windows nodes out; '' selects every node",
  },
  nodes: {
    type: "string",
    array: true,
    requiresArg: true,
    describe:
      "clean only these nodes (comma-separated or repeated); a name not found fails the run",
  },
  "exclude-nodes": {
    type: "string",
    array: true,
    requiresArg: true,
    describe: "never clean these nodes (comma-separated or repeated)",
  },
  "skip-not-ready": {
    type: "boolean",
    default: true,
    describe: "skip nodes whose Ready condition is not True (their helper pod could not start)",
  },
  "skip-cordoned": {
    type: "boolean",
    default: false,
    describe: "skip cordoned (unschedulable) nodes",
  },
} as const satisfies Record<string, Options>;

export interface NodeConfig {
  /** Label selector; "" selects every node. */
  selector: string;
  names: readonly string[];
  exclude: readonly string[];
  skipNotReady: boolean;
  skipCordoned: boolean;
}

/** The node options of parsed arguments; throws ConfigError naming the flag. */
export function loadNodeConfig(args: Record<string, unknown>): NodeConfig {
  return {
    selector: labelSelector("--node-selector", args["node-selector"]),
    names: nameList("--nodes", args.nodes),
    exclude: nameList("--exclude-nodes", args["exclude-nodes"]),
    skipNotReady: args["skip-not-ready"] !== false,
    skipCordoned: args["skip-cordoned"] === true,
  };
}

const SELECTOR_PART =
  /^\s*!?[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?\s*((==?|!=)\s*[-A-Za-z0-9_.]*|\s+(in|notin)\s+\([^()]*\))?\s*$/;

/** Splits a label selector on the commas that separate requirements (not those inside `in (a,b)`). */
function selectorParts(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts;
}

function labelSelector(key: string, value: unknown): string {
  if (value === undefined) return DEFAULT_NODE_SELECTOR;
  if (typeof value !== "string")
    throw new ConfigError(key, value, "give a label selector such as kubernetes.io/os=linux");
  const selector = value.trim();
  if (selector === "") return "";
  for (const part of selectorParts(selector)) {
    if (!SELECTOR_PART.test(part)) {
      throw new ConfigError(
        key,
        value,
        `'${part.trim()}' is not a label requirement; use kubectl's syntax: key=value, key!=value, key, !key, key in (a,b)`,
      );
    }
  }
  return selector;
}
