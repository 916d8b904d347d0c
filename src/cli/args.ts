/**
 * A small typed command-line parser (no dependency): each command declares its flags once and
 * gets back an object typed from that declaration.
 *
 * Accepted forms: `--name value`, `--name=value`, `-n value`, `-n=value`; boolean flags take no
 * value. A `list` flag may repeat (`-f a -f b`) and also takes every following argument that does
 * not start with `-` (`-f a.yaml b.yaml`), as `kubectl -f` users expect. Anything unknown, a
 * missing value or a stray positional argument is a UsageError (the CLI exits 2).
 * Pure: no I/O. Cost: linear in argv.
 */
import { PalisadeError } from '../model/errors.js';

export type FlagKind = 'string' | 'list' | 'boolean';

export interface FlagSpec {
  readonly kind: FlagKind;
  /** one-letter alias, without the dash */
  readonly short?: string;
  /** shown in help: `--port N[,N...]` */
  readonly value?: string;
  readonly help: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type ParsedFlags<S extends FlagSpecs> = {
  -readonly [K in keyof S]: S[K]['kind'] extends 'boolean' ? boolean : S[K]['kind'] extends 'list' ? string[] : string | undefined;
};

/** Bad command-line usage: the CLI prints the message and the command's help hint, and exits 2. */
export class UsageError extends PalisadeError {
  constructor(message: string) {
    super('ERR_PALISADE_USAGE', message);
  }
}

export function parseArgs<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedFlags<S> {
  const out: Record<string, string | string[] | boolean | undefined> = {};
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    out[name] = spec.kind === 'boolean' ? false : spec.kind === 'list' ? [] : undefined;
    if (spec.short) byShort.set(spec.short, name);
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-') {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const eq = arg.indexOf('=');
    const flagText = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const name = flagText.startsWith('--') ? flagText.slice(2) : byShort.get(flagText.slice(1));
    const spec = name !== undefined && Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (name === undefined || spec === undefined) throw new UsageError(`unknown flag ${flagText}`);

    if (spec.kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`${flagText} takes no value`);
      out[name] = true;
      continue;
    }
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new UsageError(`${flagText} needs a value`);
      values.push(next);
      i++;
    }
    if (spec.kind === 'string') {
      if (out[name] !== undefined) throw new UsageError(`${flagText} given twice`);
      out[name] = values[0];
      continue;
    }
    // list: also take the following plain arguments
    while (inline === undefined && i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-')) {
      values.push(argv[i + 1] as string);
      i++;
    }
    if (values.some((v) => v === '')) throw new UsageError(`${flagText} needs a non-empty value`);
    (out[name] as string[]).push(...values);
  }
  return out as ParsedFlags<S>;
}

/** `80,443` and repeated flags -> [80, 443]; each 1..65535. */
export function parsePortList(values: readonly string[], flag: string): number[] {
  const ports: number[] = [];
  for (const part of splitCommas(values)) {
    ports.push(parsePort(part, flag));
  }
  return ports;
}

export function parsePort(text: string, flag: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a port number (1..65535)`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new UsageError(`${flag}: ${n} is not a port number (1..65535)`);
  return n;
}

export function splitCommas(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Help text for a command's flags, one per line, aligned. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`;
    return [left, s.help] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`).join('\n');
}
