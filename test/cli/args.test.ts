import { describe, expect, it } from 'vitest';
import { parseArgs, parsePort, parsePortList, UsageError } from '../../src/cli/args.js';

const SPECS = {
  file: { kind: 'list', short: 'f', help: '' },
  port: { kind: 'string', help: '' },
  help: { kind: 'boolean', short: 'h', help: '' },
} as const;

describe('parseArgs (the small typed flag parser)', () => {
  it('reads --name value, --name=value, -f value and booleans', () => {
    const a = parseArgs(['--port', '80', '-f', 'a.yaml', '--help'], SPECS);
    expect(a).toEqual({ file: ['a.yaml'], port: '80', help: true });
    expect(parseArgs(['--port=81', '-f=b'], SPECS)).toEqual({ file: ['b'], port: '81', help: false });
  });

  it('a list flag repeats and also takes the following plain arguments (-f a b -f c)', () => {
    expect(parseArgs(['-f', 'a', 'b', '-f', 'c', '--port', '1'], SPECS).file).toEqual(['a', 'b', 'c']);
  });

  it('defaults: empty list, undefined string, false boolean', () => {
    expect(parseArgs([], SPECS)).toEqual({ file: [], port: undefined, help: false });
  });

  it.each([
    [['--nope'], /unknown flag --nope/],
    [['-x'], /unknown flag -x/],
    [['--port'], /--port needs a value/],
    [['--port', '--help'], /--port needs a value/],
    [['--port', '1', '--port', '2'], /given twice/],
    [['--help=yes'], /takes no value/],
    [['stray'], /unexpected argument "stray"/],
    [['-f', ''], /non-empty/],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseArgs(argv, SPECS)).toThrow(UsageError);
    expect(() => parseArgs(argv, SPECS)).toThrow(msg);
  });

  it('ports are 1..65535, comma lists and repeats combine', () => {
    expect(parsePortList(['80,443', '8080'], '--port')).toEqual([80, 443, 8080]);
    expect(parsePort('65535', '--port')).toBe(65535);
    for (const bad of ['0', '65536', '-1', '8o', '1.5', '']) expect(() => parsePort(bad, '--port'), bad).toThrow(UsageError);
  });
});
