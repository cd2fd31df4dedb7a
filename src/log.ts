import { pino, type Logger } from "pino";

export type LogFormat = "pretty" | "json";
export type { Logger };

/**
 * The process logger. JSON lines (pino) for machines; for humans the commands print their own
 * readable lines (src/report) and keep pino for warnings and errors on stderr.
 */
export function createLogger(format: LogFormat, level = "info"): Logger {
  // Written synchronously: an agent's batch record must be out before its removal call starts
  // (pino's default stream writes later, and a killed agent would take the record with it).
  if (format === "json")
    return pino({ level, base: undefined }, pino.destination({ dest: 1, sync: true }));
  // Human mode: warnings and errors as compact single lines on stderr.
  return pino(
    { level: level === "info" ? "warn" : level, base: undefined, timestamp: false },
    pino.destination(2),
  );
}
