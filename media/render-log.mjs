#!/usr/bin/env node
// Renders a captured `kubectl logs job/...` text as an SVG terminal picture for the README.
//   node media/render-log.mjs media/run.log media/run.svg
// Colours follow the log's own structure: header, per-node sections, deletions, failures, summary.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: render-log.mjs LOG SVG");
  process.exit(2);
}
// Terminal colour codes, if any were captured, are not part of the text.
// eslint-disable-next-line no-control-regex
const lines = readFileSync(input, "utf8").replace(/\x1b\[[0-9;]*m/g, "").trimEnd().split("\n");
const charW = 7.8, lineH = 18, pad = 16, titleH = 28;
const width = Math.ceil(Math.max(80, ...lines.map((l) => l.length)) * charW + 2 * pad);
const height = titleH + lines.length * lineH + 2 * pad;

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
function colour(line) {
  if (/^\$ /.test(line)) return "#8be9fd";
  if (/^\s+NODE\s/.test(line)) return "#bd93f9";
  if (/FAILED/.test(line)) return "#ff5555";
  if (/^kube-image-cleanup run |^summary of run /.test(line)) return "#f8f8f2";
  if (/^\[\d+\/\d+\] /.test(line)) return "#50fa7b";
  if (/^\s+(deleted|would delete)\s/.test(line)) return "#a4e4a4";
  if (/^\s+kept?\s/.test(line)) return "#f1fa8c";
  return "#c0c0c0";
}
const text = lines
  .map((l, i) => {
    const y = titleH + pad + (i + 1) * lineH - 4;
    const bold = /^(kube-image-cleanup run|summary of run|\[\d+\/\d+\])/.test(l) ? ' font-weight="bold"' : "";
    return `<text x="${pad}" y="${y}" fill="${colour(l)}"${bold} xml:space="preserve">${escape(l)}</text>`;
  })
  .join("\n");
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="13">
<rect width="100%" height="100%" rx="8" fill="#1e1f29"/>
<circle cx="18" cy="14" r="5" fill="#ff5f56"/><circle cx="36" cy="14" r="5" fill="#ffbd2e"/><circle cx="54" cy="14" r="5" fill="#27c93f"/>
<text x="${width / 2}" y="18" fill="#8a8a8a" text-anchor="middle">kubectl logs job/…  (local cluster, real run)</text>
${text}
</svg>
`;
writeFileSync(output, svg);
