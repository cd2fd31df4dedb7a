// A node's two byte figures (the sum of the deleted images' sizes, and what the image filesystem
// got back) said in one line, the same in the agent's log and in the run's node section.
import { formatBytes } from "../text/units.js";
import type { AgentResult } from "./agent-result.js";

/**
 * `bytes: 2.0 MiB reclaimed = sum of image sizes; image filesystem freed 140 KiB (used 5.0 MiB ->
 * 4.9 MiB, crictl imagefsinfo)`: the two figures, each saying what it is.
 */
export function bytesLine(r: Pick<AgentResult, "imageFs" | "bytesReclaimed">): string {
  const sum = `bytes: ${formatBytes(r.bytesReclaimed)} reclaimed = sum of image sizes`;
  const fs = r.imageFs;
  if (fs === undefined) return sum;
  const freed = fs.freedBytes < 0 ? `-${formatBytes(-fs.freedBytes)}` : formatBytes(fs.freedBytes);
  return (
    `${sum}; image filesystem freed ${freed} (used ${formatBytes(fs.usedBytesBefore)} -> ` +
    `${formatBytes(fs.usedBytesAfter)}, as ${fs.source} reports${fs.settled ? "" : "; the runtime had not refreshed it yet"})`
  );
}
