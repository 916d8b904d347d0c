/**
 * Invalid input: every problem names the file, line, object, field path and code; the command
 * exits 2 and uses nothing.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { example, FIXTURES, palisade } from './helpers.js';

const INVALID = join(FIXTURES, 'invalid');
const PROBLEM_LINE = /^(\S+?):(\d+): (error|warning) ([A-Z][A-Z0-9_]+):(?: ([A-Za-z]+) ([^:]+):)?(?: ([^:]+):)? (.+)$/;

describe('palisade validate', () => {
  it('valid input: exit 0, a summary on stdout', async () => {
    const r = await palisade('validate', '-f', example('s11-deny-with-priorities'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid: 4 namespace\(s\), 4 pod\(s\), 2 node\(s\), 1 NetworkPolicy\(ies\), 3 cluster policy\(ies\); 0 error\(s\), 0 warning\(s\)\n$/);
    expect(r.stderr).toBe('');
  });

  it('invalid input: exit 2; each error names file:line, kind ns/name, field path and code', async () => {
    const r = await palisade('validate', '-f', INVALID);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    for (const l of lines) expect(l, l).toMatch(PROBLEM_LINE);
    // networking/v1 validation: endPort must be >= port (ValidateNetworkPolicyPort)
    expect(lines).toContain(
      `${join(INVALID, 'policies.yaml').replace(process.cwd() + '/', '')}:11: error NP_ENDPORT_BEFORE_PORT: NetworkPolicy x/backwards-range: spec.ingress[0].ports[0].endPort: must be greater than or equal to \`port\` (31000 < 32000)`,
    );
    // ClusterNetworkPolicy CRD: priority Minimum=0, Maximum=1000
    const prio = lines.find((l) => l.includes('CNP_PRIORITY_OUT_OF_RANGE'));
    expect(prio).toMatch(/policies\.yaml:24: error CNP_PRIORITY_OUT_OF_RANGE: ClusterNetworkPolicy too-low: spec\.priority: /);
    expect(r.stdout).toBe('invalid: 2 error(s), 2 warning(s); nothing was used\n');
  });

  it('a rule valid to the API but refused by the compiler (Redirect to a single-stack Service, a non-networks peer): exit 2, each refusal placed', async () => {
    const dir = join(FIXTURES, 'redirect-single-stack');
    const file = join(dir, 'policies.yaml').replace(process.cwd() + '/', '');
    for (const command of ['validate', 'lint', 'compile']) {
      const r = await palisade(command, '-f', dir);
      expect(r.code, command).toBe(2);
      const lines = r.stderr.trim().split('\n');
      for (const l of lines) expect(l, l).toMatch(PROBLEM_LINE);
      const pods = `${file}:34: error RULE_UNSUPPORTED: PalisadeClusterNetworkPolicy iam-via-proxy: spec.egress[0].to[0]: cannot compile a pods peer in a Redirect rule to the single-stack Service iam/metadata-proxy: the Service has only IPv4 ClusterIPs`;
      const namespaces = `${file}:4: error RULE_UNSUPPORTED: PalisadeClusterNetworkPolicy pods-via-proxy: spec.egress[1].to[1]: cannot compile a namespaces peer`;
      // compile stops at the first refusal (Admin before Baseline); validate and lint report every one
      if (command === 'compile') expect(lines).toEqual([expect.stringContaining(namespaces)]);
      else {
        expect(lines).toEqual([expect.stringContaining(namespaces), expect.stringContaining(pods)]);
        expect(r.stdout).toBe('invalid: 2 error(s), 0 warning(s); nothing was used\n');
      }
    }
    // check/matrix: the same place in the one error line
    const m = await palisade('matrix', '-f', dir);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(`ERR_PALISADE_UNSUPPORTED_RULE: ${file}:4: PalisadeClusterNetworkPolicy pods-via-proxy: spec.egress[1].to[1]: cannot compile`);
  });

  it('a YAML syntax error names the file and the line', async () => {
    const r = await palisade('validate', '-f', join(FIXTURES, 'yaml-error.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/yaml-error\.yaml:\d+: error YAML_SYNTAX: /);
  });

  it('a missing file is invalid input', async () => {
    const r = await palisade('validate', '-f', join(FIXTURES, 'does-not-exist.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does-not-exist\.yaml: error FILE_NOT_FOUND: /);
  });

  it('prints lint warnings too (and still exits 0)', async () => {
    const r = await palisade('validate', '-f', join(FIXTURES, 'lint'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning LINT_EQUAL_PRIORITY');
  });
});

describe('invalid input uses nothing', () => {
  // The valid policies and pods next to the invalid ones must not produce any verdict.
  it.each([
    ['matrix', []],
    ['matrix', ['-o', 'json']],
    ['check', ['--from', 'x/a', '--to', 'y/b']],
    ['check', ['--from', 'x/a', '--to', 'y/b', '-o', 'json']],
    ['lint', []],
  ] as const)('%s %j: exit 2, nothing on stdout but the refusal', async (cmd, extra) => {
    const r = await palisade(cmd, '-f', INVALID, ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error NP_ENDPORT_BEFORE_PORT');
    expect(r.stderr).toContain('error CNP_PRIORITY_OUT_OF_RANGE');
    if (cmd === 'lint') expect(r.stdout).toMatch(/nothing was used/);
    else expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/LINT_/);
  });
});
