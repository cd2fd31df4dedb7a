// `npm run bench:publish -- NAME[:LABEL]...` (e.g. sweep agent-plan): copies the latest run of each named
// benchmark to bench/published/ (bench/lib/publish.ts), to commit with docs/performance.md that quotes it.
import { publish } from "./lib/publish.js";

const names = process.argv.slice(2).filter((a) => a !== "--");
if (names.length === 0) {
  process.stderr.write(
    "usage: npm run bench:publish -- NAME[:LABEL]... (e.g. sweep agent-plan sweep-agent2500ms:5000n)\n",
  );
  process.exit(2);
}
try {
  for (const n of names) process.stdout.write(`published: ${publish(n).join(", ")}\n`);
} catch (err) {
  process.stderr.write(`bench:publish: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
