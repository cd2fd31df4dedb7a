import { defineConfig } from "vitest/config";

// One config, five projects. `npm test` (test/run-all.sh) runs unit first, then brings the local
// cluster up and runs integration and e2e against it.

/** Integration files that need no cluster: each starts what it tests in temp dirs. */
const integrationNodeFiles = [
  "test/integration/{agent,cli,image,registry,report}/**/*.test.ts",
  "test/integration/cluster/start-bg.test.ts",
];
/** The e2e file only a node on containerd 2 can run. */
const containerd2Files = ["test/e2e/image-volume.test.ts"];

export default defineConfig({
  test: {
    // One file at a time within a project: cluster files share one API server and kubelet, node
    // files are heavy (a containerd each). Unit tests take seconds either way.
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
      // Integration is two projects so that npm test can run them side by side
      // (test/support/run-lanes.sh):
      // "node" files start their own containerd (or CRI-O, pushgateway, bare processes) in temp
      // dirs and never touch the cluster; "cluster" files use the local cluster's API server and
      // kubelet, as e2e does, so they share a lane with e2e.
      {
        test: {
          name: "integration-node",
          include: integrationNodeFiles,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "integration-cluster",
          include: ["test/integration/**/*.test.ts"],
          exclude: integrationNodeFiles,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: containerd2Files,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
      // What only a node on containerd 2 can run (image volumes): npm test switches the cluster's
      // node to containerd 2 for it (test/cluster/on-runtime.sh) and back.
      {
        test: {
          name: "e2e-containerd2",
          include: containerd2Files,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
