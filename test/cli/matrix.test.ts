/**
 * `palisade matrix` and the pure truth-table module (src/matrix): grid order, text layout like the
 * upstream e2e truth tables (kubernetes test/e2e/network/netpol truthtable.go: rows = from,
 * columns = to, `.` allowed, `X` denied), the JSON cell shape (src/matrix), host-network
 * pods at their node address, and address families.
 */
import { describe, expect, it } from 'vitest';
import { parseIp, type IpAddr } from '../../src/model/ip.js';
import type { Cluster, Pod } from '../../src/model/types.js';
import type { Flow } from '../../src/model/flow.js';
import type { DirectionVerdict, Evaluator, FlowVerdict } from '../../src/model/verdict.js';
import { computeMatrix, formatMatrixText, matrixCells, matrixEndpoints, podAddresses } from '../../src/matrix/index.js';
import { example, palisade } from './helpers.js';

const ip = (t: string): IpAddr => {
  const a = parseIp(t);
  if (!a) throw new Error(t);
  return a;
};

function pod(namespace: string, name: string, ips: string[], extra: Partial<Pod> = {}): Pod {
  return { namespace, name, labels: {}, ips: ips.map(ip), hostNetwork: false, containerPorts: [], source: { file: 't' }, ...extra };
}

const dir = (direction: 'ingress' | 'egress', verdict: 'allow' | 'deny'): DirectionVerdict => ({
  direction,
  verdict,
  tier: 'Default',
  reason: 'no-match',
  passed: [],
  notes: [],
});

/** A stand-in engine: denies exactly the flows whose destination port is odd and whose dst ends in .2 */
class OddPortsToDotTwo implements Evaluator {
  readonly seen: Flow[] = [];
  evaluate(flow: Flow): FlowVerdict {
    this.seen.push(flow);
    const deny = flow.dstPort % 2 === 1 && flow.dst.text.endsWith('.2');
    return {
      verdict: deny ? 'deny' : 'allow',
      flow,
      src: { kind: 'pod', ip: flow.src.text },
      dst: { kind: 'pod', ip: flow.dst.text },
      egress: dir('egress', 'allow'),
      ingress: dir('ingress', deny ? 'deny' : 'allow'),
    };
  }
  endpoint(a: IpAddr) {
    return { kind: 'external' as const, ip: a.text };
  }
}

const cluster = (pods: Pod[], nodes: Cluster['nodes'] = []): Cluster => ({
  namespaces: [],
  pods,
  nodes,
  services: [],
  endpointSlices: [],
  networkPolicies: [],
  clusterPolicies: [],
});

describe('src/matrix (pure)', () => {
  it('orders endpoints by namespace/name, then extra addresses as given; grids port-major, then protocol', () => {
    const c = cluster([pod('b', 'p', ['10.0.0.2']), pod('a', 'q', ['10.0.0.1'])]);
    const eps = matrixEndpoints(c, [ip('192.0.2.9')]);
    expect(eps.map((e) => e.label)).toEqual(['a/q', 'b/p', '192.0.2.9']);
    const m = computeMatrix(new OddPortsToDotTwo(), eps, { ports: [81, 80], protocols: ['TCP', 'UDP'] });
    expect(m.grids.map((g) => `${g.protocol}/${g.port}`)).toEqual(['TCP/81', 'UDP/81', 'TCP/80', 'UDP/80']);
    expect(matrixCells(m)).toHaveLength(4 * 9);
  });

  it('renders an aligned grid, rows = from and columns = to, "." allowed and "X" denied', () => {
    const c = cluster([pod('a', 'q', ['10.0.0.1']), pod('b', 'longer-name', ['10.0.0.2'])]);
    const m = computeMatrix(new OddPortsToDotTwo(), matrixEndpoints(c), { ports: [81], protocols: ['TCP'] });
    expect(formatMatrixText(m)).toBe(['TCP/81', '-              a/q  b/longer-name', 'a/q            .    X', 'b/longer-name  .    X', ''].join('\n'));
  });

  it('"-" where two endpoints share no family; --ip-family restricts and labels the header', () => {
    const c = cluster([pod('a', 'v4', ['10.0.0.1']), pod('a', 'v6', ['fd00::2']), pod('a', 'ds', ['10.0.0.3', 'fd00::3'])]);
    const e = new OddPortsToDotTwo();
    const m = computeMatrix(e, matrixEndpoints(c), { ports: [80], protocols: ['TCP'] });
    const lines = formatMatrixText(m).split('\n');
    expect(lines[1]).toBe('-     a/ds  a/v4  a/v6');
    expect(lines[2]).toBe('a/ds  .     .     .');
    expect(lines[3]).toBe('a/v4  .     .     -');
    expect(lines[4]).toBe('a/v6  .     -     .');
    // the dual-stack pod talks IPv4 to the IPv4 pod and IPv6 to the IPv6 pod
    expect(e.seen.map((f) => `${f.src.text}>${f.dst.text}`)).toContain('10.0.0.3>10.0.0.1');
    expect(e.seen.map((f) => `${f.src.text}>${f.dst.text}`)).toContain('fd00::3>fd00::2');
    const v6 = computeMatrix(new OddPortsToDotTwo(), matrixEndpoints(c), { ports: [80], protocols: ['TCP'], family: 6 });
    expect(formatMatrixText(v6).split('\n').slice(0, 3)).toEqual(['TCP/80 IPv6', '-     a/ds  a/v4  a/v6', 'a/ds  .     -     .']);
  });

  it('a host-network pod is reached at its node address (preferring the one it reports)', () => {
    const nodes = [
      { name: 'n1', labels: {}, addresses: [ip('10.9.0.1'), ip('10.9.1.1'), ip('fd00:9::1')], source: { file: 't' } },
    ];
    const hn = pod('kube-system', 'agent', [], { hostNetwork: true, nodeName: 'n1' });
    const hnReported = pod('kube-system', 'agent2', ['10.9.1.1'], { hostNetwork: true, nodeName: 'n1' });
    const byName = new Map(nodes.map((n) => [n.name, n]));
    expect(podAddresses(hn, byName).map((a) => a.text)).toEqual(['10.9.0.1', 'fd00:9::1']);
    expect(podAddresses(hnReported, byName).map((a) => a.text)).toEqual(['10.9.1.1', 'fd00:9::1']);
    // unknown node: fall back to what the pod reports
    expect(podAddresses(pod('k', 'x', ['10.8.0.1'], { hostNetwork: true, nodeName: 'gone' }), byName).map((a) => a.text)).toEqual(['10.8.0.1']);
  });
});

describe('palisade matrix -o json', () => {
  it('has exactly the cell keys of the contract, one cell per ordered pair, port and protocol', async () => {
    const r = await palisade('matrix', '-f', example('namespace-by-name'), '--port', '80,81', '--protocol', 'TCP,UDP', '-o', 'json');
    expect(r.code).toBe(0);
    const { cells } = JSON.parse(r.stdout) as { cells: Record<string, unknown>[] };
    expect(cells).toHaveLength(3 * 3 * 2 * 2);
    for (const c of cells) {
      for (const k of ['from', 'to', 'port', 'protocol', 'verdict', 'egress', 'ingress']) expect(c).toHaveProperty(k);
      expect(['allow', 'deny']).toContain(c.verdict);
      const e = c.egress as DirectionVerdict;
      const i = c.ingress as DirectionVerdict;
      expect(e.direction).toBe('egress');
      expect(i.direction).toBe('ingress');
      // a flow is allowed only if both directions allow (semantics doc §1.4)
      expect(c.verdict).toBe(e.verdict === 'allow' && i.verdict === 'allow' ? 'allow' : 'deny');
    }
    const zToY = cells.find((c) => c.from === 'z/c' && c.to === 'y/b' && c.port === 80 && c.protocol === 'TCP');
    expect(zToY).toMatchObject({ verdict: 'deny', srcIp: '10.244.1.30', dstIp: '10.244.2.10', family: 4 });
    expect((zToY?.ingress as DirectionVerdict).reason).toBe('isolated-no-match');
  });

  it('the text and JSON outputs agree cell by cell', async () => {
    const f = example('s11-deny-with-priorities');
    const text = await palisade('matrix', '-f', f, '--port', '80,5432');
    const json = await palisade('matrix', '-f', f, '--port', '80,5432', '-o', 'json');
    const cells = (JSON.parse(json.stdout) as { cells: { from: string; to: string; port: number; verdict: string }[] }).cells;
    const grids = text.stdout.trim().split('\n\n');
    expect(grids).toHaveLength(2);
    for (const [g, port] of [[grids[0], 80], [grids[1], 5432]] as const) {
      const lines = (g as string).split('\n');
      const cols = (lines[1] as string).split(/\s+/).slice(1);
      for (const line of lines.slice(2)) {
        const [from, ...marks] = line.split(/\s+/);
        marks.forEach((m, j) => {
          const c = cells.find((x) => x.from === from && x.to === cols[j] && x.port === port);
          expect(c?.verdict, `${from} -> ${cols[j]}:${port}`).toBe(m === '.' ? 'allow' : 'deny');
        });
      }
    }
  });
});

describe('palisade matrix: flags', () => {
  it('defaults to TCP/80', async () => {
    const r = await palisade('matrix', '-f', example('s12-namespace-isolation'));
    expect(r.stdout.split('\n')[0]).toBe('TCP/80');
    expect(r.stdout.split('\n\n')).toHaveLength(1);
  });

  it('--external adds rows and columns for addresses; must match --ip-family', async () => {
    const r = await palisade('matrix', '-f', example('s14-block-metadata-server'), '--external', '169.254.169.254,fd00:ec2::254');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/169\.254\.169\.254 {2}fd00:ec2::254$/);
    // the two external addresses share no family
    expect(r.stdout).toMatch(/^169\.254\.169\.254 +\. +\. +\. +\. +-$/m);
    const bad = await palisade('matrix', '-f', example('s14-block-metadata-server'), '--ip-family', '4', '--external', 'fd00:ec2::254');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--external: fd00:ec2::254 is not an IPv4 address');
  });

  it.each([
    [['--port', '0'], /--port: 0 is not a port number/],
    [['--port', '80,http'], /--port: "http" is not a port number/],
    [['--protocol', 'tcp,icmp'], /--protocol: "icmp" is not one of/],
    [['--ip-family', '5'], /--ip-family: "5" is not 4 or 6/],
    [['--external', 'example.com'], /--external: "example.com" is not an IP address/],
  ])('rejects %j with exit 2', async (args, msg) => {
    const r = await palisade('matrix', '-f', example('namespace-by-name'), ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(msg);
  });

  it('protocols are case-insensitive on the command line', async () => {
    const r = await palisade('matrix', '-f', example('namespace-by-name'), '--protocol', 'sctp');
    expect(r.stdout.split('\n')[0]).toBe('SCTP/80');
  });
});
