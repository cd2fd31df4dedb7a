// Columns padded to their widest cell, two spaces apart: the tables `report` and `list` print.
// Cells are escaped here, so a node or image name cannot break a row or drive the terminal.
import { escapeControl } from "../text/escape.js";

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number> = new Set(),
): string[] {
  return padColumns(
    [header, ...rows].map((row) => row.map(escapeControl)),
    rightAligned,
  );
}

/** Cells padded to their column's widest, two spaces apart; the caller escapes what it prints. */
export function padColumns(
  cells: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string[] {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((row) =>
    row
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
