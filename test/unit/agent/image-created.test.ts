// Creation times from what crictl and ctr print: containerd's and CRI-O's verbose image info, the
// config blob, and the placeholders reproducible builders write.
import { describe, expect, it } from "vitest";
import {
  createdFrom,
  parseConfigCreated,
  parseCrictlInspectiCreated,
} from "../../../src/agent/image-created.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

describe("image creation times", () => {
  it("reads containerd's inspecti output: info.imageSpec.created, one object or an array", () => {
    const one = { status: { id: A }, info: { imageSpec: { created: "2026-03-01T10:00:00Z" } } };
    expect(parseCrictlInspectiCreated(JSON.stringify(one))).toEqual(
      new Map([[A, Date.UTC(2026, 2, 1, 10)]]),
    );
    const two = [
      one,
      { status: { id: B }, info: { imageSpec: { created: "2026-01-01T00:00:00.5Z" } } },
    ];
    expect(parseCrictlInspectiCreated(JSON.stringify(two)).get(B)).toBe(
      Date.UTC(2026, 0, 1, 0, 0, 0, 500),
    );
  });

  it("reads CRI-O's, where the info is a JSON string under info.info", () => {
    const crio = {
      status: { id: "a".repeat(64) },
      info: {
        info: JSON.stringify({ labels: null, imageSpec: { created: "2026-05-05T05:05:05Z" } }),
      },
    };
    expect(parseCrictlInspectiCreated(JSON.stringify(crio)).get("a".repeat(64))).toBe(
      Date.UTC(2026, 4, 5, 5, 5, 5),
    );
  });

  it("leaves out images without info (crictl without verbose info) or without a time", () => {
    expect(parseCrictlInspectiCreated(JSON.stringify({ status: { id: A } })).size).toBe(0);
    expect(
      parseCrictlInspectiCreated(JSON.stringify({ status: { id: A }, info: { imageSpec: {} } }))
        .size,
    ).toBe(0);
  });

  it("reads a config blob's created", () => {
    expect(parseConfigCreated('{"created":"2026-02-02T00:00:00Z","os":"linux"}')).toBe(
      Date.UTC(2026, 1, 2),
    );
    expect(parseConfigCreated('{"os":"linux"}')).toBeUndefined();
    expect(parseConfigCreated("not json")).toBeUndefined();
  });

  it("takes the epoch, Go's zero time and other placeholders for no time", () => {
    expect(createdFrom("1970-01-01T00:00:00Z")).toBeUndefined();
    expect(createdFrom("1970-01-01T00:00:01Z")).toBeUndefined();
    expect(createdFrom("0001-01-01T00:00:00Z")).toBeUndefined();
    expect(createdFrom("yesterday")).toBeUndefined();
    expect(createdFrom(12)).toBeUndefined();
    expect(createdFrom("2000-01-01T00:00:00Z")).toBe(Date.UTC(2000, 0, 1));
  });
});
