#!/usr/bin/env node
// Renders a captured `kubectl logs job/...` text as an SVG terminal picture for the README.
//   node media/render-log.mjs media/run.log media/run.svg
// Colours follow the log's own structure: header, per-node sections, deletions, failures, summary.
// Each line of the log is one <text> element, verbatim: `logLines(svg)` reads the log back, so a
// test can check that the picture is the rendering of its own text and that the text is what
// today's formatter prints (test/unit/media/run-svg.test.ts).
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

const charW = 7.8,
  lineH = 18,
  pad = 16,
  titleH = 28;

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const unescape = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The log's lines: terminal colour codes, if any were captured, are not part of the text. */
export function logText(text) {
  // eslint-disable-next-line no-control-regex
  const colours = /\x1b\[[0-9;]*m/g;
  return text.replace(colours, "").trimEnd().split("\n");
}

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

/** The SVG picture of `lines`. */
export function renderSvg(lines) {
  const width = Math.ceil(Math.max(80, ...lines.map((l) => l.length)) * charW + 2 * pad);
  const height = titleH + lines.length * lineH + 2 * pad;
  const text = lines
    .map((l, i) => {
      const y = titleH + pad + (i + 1) * lineH - 4;
      const bold = /^(kube-image-cleanup run|summary of run|\[\d+\/\d+\])/.test(l)
        ? ' font-weight="bold"'
        : "";
      return `<text x="${pad}" y="${y}" fill="${colour(l)}"${bold} xml:space="preserve">${escape(l)}</text>`;
    })
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="13">
<rect width="100%" height="100%" rx="8" fill="#1e1f29"/>
<circle cx="18" cy="14" r="5" fill="#ff5f56"/><circle cx="36" cy="14" r="5" fill="#ffbd2e"/><circle cx="54" cy="14" r="5" fill="#27c93f"/>
<text x="${width / 2}" y="18" fill="#8a8a8a" text-anchor="middle">kubectl logs job/…  (local cluster, real run)</text>
${text}
</svg>
`;
}

/** The log lines an SVG made by renderSvg shows, in order (the inverse of renderSvg). */
export function logLines(svg) {
  return [
    ...svg.matchAll(
      /<text x="\d+" y="\d+" fill="#[0-9a-f]{6}"(?: font-weight="bold")? xml:space="preserve">(.*)<\/text>/g,
    ),
  ].map((m) => unescape(m[1]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: render-log.mjs LOG SVG");
    process.exit(2);
  }
  writeFileSync(output, renderSvg(logText(readFileSync(input, "utf8"))));
}
