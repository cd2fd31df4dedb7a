import { describe, expect, it } from "vitest";
import {
  checkImageReference,
  isImageReference,
  REFERENCE_MAX_LENGTH,
} from "../../../src/config/image-reference.js";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image reference grammar (distribution/reference)", () => {
  // What pods, the kubelet and runtimes write: every one must pass, or its image loses protection.
  [
    "nginx",
    "nginx:1.25",
    "library/nginx:1.25-alpine",
    "docker.io/library/nginx:1.25",
    `docker.io/library/nginx@${D}`,
    `docker.io/library/nginx:1.25@${D}`,
    D, // the kubelet's imageID for an image without a repo digest
    "0123456789abcdef".repeat(4), // a bare id, as `docker run <id>` takes it
    "localhost:5000/app:dev",
    "registry.example.com:443/team/sub_team/app.name__x---y:v1.2.3_rc.1",
    "[::1]:5000/app:1",
    "Registry.Example.COM/app:1", // the domain may have capitals, the path not
    "quay.io/acme/model:v3",
    "registry.k8s.io/pause:3.10",
    `ghcr.io/acme/app@sha512:${"a".repeat(128)}`,
    `ghcr.io/acme/app@multihash+base58:${"a".repeat(32)}`,
    `a/${"b".repeat(253)}`, // a name of exactly 255 characters
    `app:${"t".repeat(128)}`, // the longest tag
  ].forEach((ref) => {
    it(`accepts ${ref.length > 60 ? `${ref.slice(0, 40)}... (${ref.length} chars)` : ref}`, () => {
      expect(checkImageReference(ref)).toBeUndefined();
    });
  });

  [
    ["", "it is empty"],
    ["nginx\n[1/1] node-a: deleted 1 image", "grammar"],
    ["nginx:1.25\r", "grammar"],
    ["nginx:1.25\u001b[2J", "grammar"],
    ["nginx:1.25\u2028summary", "grammar"],
    [`nginx\nsummary of run x@${D}`, "grammar"],
    ["has space:1", "grammar"],
    ["docker.io/Acme/app:1", "grammar"], // capitals only in the domain
    ["app:", "grammar"],
    ["app:-tag", "grammar"], // a tag starts with a word character
    [`app:${"t".repeat(129)}`, "grammar"], // tag longer than 128
    ["app@sha256:abc", "grammar"], // digest shorter than 32 hex digits
    [`app@sha256:${"a".repeat(129)}`, "grammar"],
    ["app//x:1", "grammar"],
    ["-app:1", "grammar"],
    ["app_:1", "grammar"],
    [`a/${"b".repeat(254)}`, "repository name is 256 characters long"],
    [`docker.io/acme/${"a".repeat(130 * 1024)}:1`, `at most ${REFERENCE_MAX_LENGTH}`],
  ].forEach(([ref = "", why = ""]) => {
    it(`rejects ${JSON.stringify(ref.length > 60 ? `${ref.slice(0, 40)}...` : ref)} (${why})`, () => {
      expect(checkImageReference(ref)).toContain(why);
      expect(isImageReference(ref)).toBe(false);
    });
  });

  it("never quotes the string it rejects", () => {
    const forged = "x\n[1/1] node-a: deleted 99 images";
    expect(checkImageReference(forged)).not.toContain("deleted");
  });

  it("judges a string of the maximum length quickly (no backtracking blow-up)", () => {
    const nasty = `${"a-".repeat(Math.floor(REFERENCE_MAX_LENGTH / 2) - 1)}!`;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) checkImageReference(nasty);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
