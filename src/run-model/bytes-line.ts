// A node's two byte figures (the sum of the deleted images' sizes, and what the image filesystem
// got back) said in one line, the same in the agent's log and in the run's node section.
import { formatBytes } from "../text/units.js";
import type { AgentResult } from "./agent-result.js";

/**
 * `bytes: 2.0 MiB reclaimed = sum of image sizes; image filesystem freed 140 KiB (used 5.0 MiB ->
 * 4.9 MiB, as ctr ... reports)`: the two figures, each saying what it is. A pending figure says so
 * first, and why: `image filesystem freed: pending, 0 B so far (...; crictl imagefsinfo was last
 * refreshed before ...)`.
 */
export function bytesLine(r: Pick<AgentResult, "imageFs" | "bytesReclaimed">): string {
  const sum = `bytes: ${formatBytes(r.bytesReclaimed)} reclaimed = sum of image sizes`;
  const fs = r.imageFs;
  if (fs === undefined) return sum;
  const freed = fs.freedBytes < 0 ? `-${formatBytes(-fs.freedBytes)}` : formatBytes(fs.freedBytes);
  const readings = `used ${formatBytes(fs.usedBytesBefore)} -> ${formatBytes(fs.usedBytesAfter)}, as ${fs.source} reports`;
  if (fs.state === "pending")
    return `${sum}; image filesystem freed: pending, ${freed} so far (${readings}; ${fs.pendingReason ?? "the runtime had not caught up"})`;
  return `${sum}; image filesystem freed ${freed} (${readings})`;
}
