/**
 * The agent's log: one JSON object per line (time, level, msg, then the fields), written to a
 * sink (stderr in the CLI). Field values are data, never format strings.
 * Thread-safety: one writer per process (JS is single-threaded).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface JsonLog {
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export function jsonLog(write: (line: string) => void, minLevel: LogLevel = 'info'): JsonLog {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return {
    log(level, msg, fields) {
      if (order[level] < order[minLevel]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    },
  };
}
