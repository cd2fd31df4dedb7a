// The operator's retention options after the patterns: --keep-newest N and the per-node limits.
// Each check turns the flag's text into a number or throws a ConfigError naming the flag.
import { ConfigError } from "../errors.js";

/** A whole number >= 1 (`--keep-newest`, `--max-images-per-node`); undefined when absent. */
export function positiveCount(key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^[1-9]\d{0,8}$/.test(text.trim())) {
    throw new ConfigError(key, value, "give a whole number of at least 1, e.g. 3");
  }
  return Number(text.trim());
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/**
 * A size in bytes, written as a Kubernetes quantity: `10Gi`, `500Mi`, `2G`, `1073741824`;
 * undefined when absent. At least 1 byte.
 */
export function byteSize(key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "number" ? String(value) : value;
  const m =
    typeof text === "string"
      ? /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim())
      : null;
  const bytes = m ? Math.floor(Number(m[1]) * (BYTE_UNITS[m[2] ?? ""] ?? Number.NaN)) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new ConfigError(
      key,
      value,
      "give a size such as 10Gi, 500Mi, 2G or a number of bytes (at least 1)",
    );
  }
  return bytes;
}
