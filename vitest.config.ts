import { defineConfig } from "vitest/config";

// One config, three projects. `npm test` (test/run-all.sh) runs unit first, then brings the local
// cluster up and runs integration and e2e against it.
export default defineConfig({
  test: {
    // Integration and e2e files share one real containerd and one API server: one file at a time.
    // Unit tests take seconds either way.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Chart tests run the real helm binary; on 2 busy cores one render can take seconds.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
