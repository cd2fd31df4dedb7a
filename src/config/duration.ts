import { ConfigError } from "../errors.js";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a duration such as `90s`, `30m`, `12h`, `7d`, `2w` or a sum of them (`1h30m`) into whole
 * seconds. A bare number is not accepted: `--min-age 30` could mean seconds or days.
 */
export function parseDuration(key: string, given: string): number {
  const text = given.trim();
  if (text === "0") return 0;
  const part = /(\d+)([smhdw])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m !== null; m = part.exec(text)) {
    const [, amount, unit] = m;
    total += Number(amount) * (UNIT_SECONDS[unit ?? ""] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (text === "" || consumed !== text.length || !Number.isSafeInteger(total)) {
    throw new ConfigError(key, given, "use a duration like 90s, 30m, 12h, 7d, 2w or 1h30m");
  }
  return total;
}

/** `3725` -> `1h2m5s`: the inverse of parseDuration, for messages. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let rest = Math.round(seconds);
  let out = "";
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
