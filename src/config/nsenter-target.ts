// `--nsenter-target`: which process's namespaces `--host-exec nsenter` enters, as the operator
// gives it. Whether that process may be entered is decided on the node (src/agent/nsenter-target.ts).
import { ConfigError } from "../errors.js";

/** A pid, or the name of a process as `/proc/PID/comm` shows it. */
export type NsenterTarget = number | string;

/** Parses `--nsenter-target`: digits are a pid, anything else a process name. */
export function parseNsenterTarget(value: string): NsenterTarget {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** `--nsenter-target`: a pid or a process name; throws ConfigError otherwise. */
export function checkNsenterTarget(value: unknown): NsenterTarget {
  const text = typeof value === "number" ? String(value) : value;
  // A pid >= 1, or a process name as /proc/PID/comm shows it: at most 15 characters, no slash or
  // whitespace, not all digits (that would be a pid) and not starting with "-" (a flag).
  if (typeof text !== "string" || !/^(?:[1-9]\d*|(?!\d+$)(?!-)[^\s/]{1,15})$/.test(text)) {
    throw new ConfigError(
      "--nsenter-target",
      value,
      "give a process id (an integer >= 1) or a process name such as containerd",
    );
  }
  return parseNsenterTarget(text);
}
