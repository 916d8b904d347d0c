/**
 * Where a command writes: stdout for results, stderr for problems and warnings. Commands take
 * an Io so tests run them in-process and capture both streams; `bin/palisade` uses processIo.
 */
export interface Io {
  /** results (the verdict, the matrix, JSON) */
  out(text: string): void;
  /** problems, warnings, notices */
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Exit codes of every command. */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_INVALID = 2;
