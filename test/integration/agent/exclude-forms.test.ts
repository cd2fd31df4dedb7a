// Issue 26 item 1 on the real containerd (Debian's 1.6 and the pinned 2.x), through both clients:
// `--include '**'` with an exclude written each way an operator sees one image (the familiar name
// in a /regex/, the config id whole, short and bare as `crictl images` prints it, the manifest
// digest as a pod's imageID shows it, `name@digest`, `name:tag@digest`) keeps that image, while a
// control image the exclude does not name is deleted in the same run. With crictl the image is
// tried twice: imported (crictl then lists no repo digest) and as a CRI pull leaves it (with the
// `name@digest` reference). Before the fix every one but the config-id forms deleted the image.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentResult } from "../../../src/run-model/agent-result.js";
import {
  CONTAINERD_RUNTIMES,
  imageRefs,
  pathWithBins,
  Scratch,
  startContainerd,
  type BuiltImage,
  type StandaloneContainerd,
  uniqueToken,
} from "../../support/containerd.js";
import { runAgentDirect } from "../../support/agent-on-runtime.js";

interface Form {
  what: string;
  exclude: (name: string, image: BuiltImage) => string;
  /**
   * Whether the control image (no name or digest in common) is kept too: only a manifest digest
   * that matches nothing crictl lists, where crictl lists no manifest digest (fails closed).
   */
  controlKeptWhenDigestsHidden?: boolean;
}

const hex = (digest: string) => digest.replace(/^sha256:/, "");
/** `docker.io/library/kic-ex-x:1.25` -> `kic-ex-x`, the familiar repository. */
const familiar = (name: string) => name.replace(/^docker\.io\/library\//, "").replace(/:.*$/, "");

const FORMS: Form[] = [
  { what: "a /regex/ on the familiar name", exclude: (n) => `/^${familiar(n)}/` },
  {
    what: "a /regex/ on the familiar name and tag, anchored",
    exclude: (n) => `/^${familiar(n)}:1\\.25$/`,
  },
  { what: "the config id", exclude: (_, i) => i.id },
  { what: "the config id, 12 digits", exclude: (_, i) => `sha256:${hex(i.id).slice(0, 12)}` },
  {
    what: "the id column of crictl images (13 bare digits)",
    exclude: (_, i) => hex(i.id).slice(0, 13),
  },
  {
    what: "the manifest digest",
    exclude: (_, i) => i.manifest,
    controlKeptWhenDigestsHidden: true,
  },
  { what: "name@manifest digest", exclude: (n, i) => `${familiar(n)}@${i.manifest}` },
  { what: "name:tag@manifest digest", exclude: (n, i) => `${familiar(n)}:1.25@${i.manifest}` },
  {
    what: "a pod's imageID",
    exclude: (n, i) => `docker.io/library/${familiar(n)}@${i.manifest}`,
  },
];

type Listing = "ctr" | "crictl, imported" | "crictl, pulled";
const LISTINGS: Listing[] = ["ctr", "crictl, imported", "crictl, pulled"];

CONTAINERD_RUNTIMES.forEach((runtime) => {
  describe(`excludes keep what they name on ${runtime}`, () => {
    let containerd: StandaloneContainerd;
    let scratch: Scratch;
    beforeAll(async () => {
      process.env.PATH = pathWithBins;
      containerd = await startContainerd({ runtime });
      scratch = new Scratch(containerd.socket);
    });
    afterAll(() => {
      scratch.cleanup();
      containerd.stop();
    });

    function agent(client: "ctr" | "crictl", exclude: string[]): Promise<AgentResult> {
      return runAgentDirect(containerd.socket, { client, include: ["**"], exclude });
    }

    for (const listing of LISTINGS) {
      it(`keeps the image each exclude form names, deleting a control image, in one run (${listing})`, async () => {
        // One image per form, each form written from its own image's name and digests, so a form
        // can only match its own image; the detail of each kept image names the form that kept it.
        // The bare manifest digest goes last: where crictl hides manifest digests it holds back
        // every image without one, and the forms before it name theirs first.
        const tok = uniqueToken();
        const made = FORMS.map((form, i) => {
          const name = `docker.io/library/kic-ex-${tok}-${String(i)}:1.25`;
          const image = scratch.image(name);
          // What a CRI pull leaves besides the tag: the repository@manifest-digest reference.
          if (listing === "crictl, pulled")
            scratch.tag(name, `${name.replace(/:1\.25$/, "")}@${image.manifest}`);
          return { form, name, image, exclude: form.exclude(name, image) };
        });
        const control = scratch.image(`docker.io/library/kic-control-${tok}:1`);
        const excludes = [
          ...made.filter((m) => m.form.controlKeptWhenDigestsHidden !== true),
          ...made.filter((m) => m.form.controlKeptWhenDigestsHidden === true),
        ].map((m) => m.exclude);

        const result = await agent(listing === "ctr" ? "ctr" : "crictl", excludes);

        expect(result.failed).toEqual([]);
        const present = imageRefs(containerd.socket);
        for (const m of made) {
          expect(present, `${m.form.what}: ${m.exclude}`).toContain(m.name);
          expect(
            result.kept.find((k) => k.id === m.image.id),
            `${m.form.what}: ${m.exclude}`,
          ).toMatchObject({
            reason: "excluded",
            detail: expect.stringMatching(
              new RegExp(
                ` matches --exclude ${m.exclude.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`,
              ),
            ) as unknown,
          });
        }
        // Where crictl lists no manifest digest, an exclude naming one that matches nothing it
        // lists may be any image without one: the control image is kept too (fails closed).
        const controlKept = listing === "crictl, imported";
        expect(present.includes(control.name)).toBe(controlKept);
        if (controlKept)
          expect(result.kept.find((k) => k.id === control.id)?.detail).toContain(
            "its manifest digest is unknown to the client",
          );
        // (Images an earlier run here kept are deleted now: this run's excludes do not name them.)
        else expect(result.deleted.map((d) => d.id)).toContain(control.id);
      });
    }
  });
});
