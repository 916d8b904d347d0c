/**
 * src/agent/cni/request.ts on the shapes real plugins produce: the pod's addresses and host
 * interface from a ptp and a bridge prevResult (bridge lists the bridge, then the pod's veth, then
 * the sandboxed eth0), CNI_ARGS, and errors naming the field. Pure: no kernel needed.
 */
import { describe, expect, it } from 'vitest';
import { attachmentOf, CniError, parseCniArgs, parseCniRequest } from '../../src/agent/cni/request.js';

const wire = (config: object, over: object = {}): string =>
  JSON.stringify({
    command: 'ADD',
    containerId: 'c1',
    netns: '/run/netns/p1',
    ifname: 'eth0',
    args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0',
    path: '/opt/cni/bin',
    config: JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'palisade', ...config }),
    ...over,
  });

describe('CNI request parsing', () => {
  it('ptp: the pod address, the host veth', () => {
    const prevResult = {
      interfaces: [{ name: 'veth1a2b', mac: 'aa' }, { name: 'eth0', mac: 'bb', sandbox: '/run/netns/p1' }],
      ips: [
        { address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 },
        { address: 'fd00:10:244:1::5/64', interface: 1 },
      ],
    };
    expect(attachmentOf(parseCniRequest(wire({ prevResult })))).toEqual({
      containerId: 'c1',
      netns: '/run/netns/p1',
      ifname: 'eth0',
      namespace: 'shop',
      name: 'web-0',
      ips: ['10.244.1.5', 'fd00:10:244:1::5'],
      hostInterface: 'veth1a2b',
    });
  });

  it('bridge: the veth after the bridge is the host interface; an address on a host interface is not the pod', () => {
    const prevResult = {
      interfaces: [{ name: 'cni0' }, { name: 'vethcafe' }, { name: 'eth0', sandbox: '/run/netns/p1' }],
      ips: [
        { address: '10.244.1.1/24', interface: 0 },
        { address: '10.244.1.6/24', gateway: '10.244.1.1', interface: 2 },
      ],
    };
    const a = attachmentOf(parseCniRequest(wire({ prevResult })));
    expect(a.ips).toEqual(['10.244.1.6']);
    expect(a.hostInterface).toBe('vethcafe');
  });

  it('CNI_ARGS', () => {
    expect([...parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a;K8S_POD_NAMESPACE=b;')]).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'a'],
      ['K8S_POD_NAMESPACE', 'b'],
    ]);
    expect(() => parseCniArgs('novalue')).toThrow('CNI_ARGS: "novalue" is not KEY=VALUE');
  });

  it('errors carry the CNI code and name the field', () => {
    const codeOf = (f: () => unknown): [number, string] => {
      try {
        f();
      } catch (e) {
        if (e instanceof CniError) return [e.cniCode, e.message];
        throw e;
      }
      throw new Error('expected a CniError');
    };
    expect(codeOf(() => parseCniRequest('{'))[0]).toBe(6);
    expect(codeOf(() => parseCniRequest(wire({}, { config: '{"cniVersion":' })))).toEqual([6, expect.stringContaining('the network configuration is not valid JSON')]);
    expect(codeOf(() => parseCniRequest(wire({ name: 7 })))).toEqual([7, 'config.name: missing or not a string']);
    expect(codeOf(() => parseCniRequest(wire({ timeoutMs: -1 })))).toEqual([7, 'config.timeoutMs: -1 is not a positive integer']);
    expect(codeOf(() => parseCniRequest(wire({}, { command: 'GC' })))).toEqual([7, 'config["cni.dev/valid-attachments"]: required for GC']);
    expect(codeOf(() => parseCniRequest(wire({ 'cni.dev/valid-attachments': [{ containerID: 'x' }] }, { command: 'GC' })))).toEqual([
      7,
      'config["cni.dev/valid-attachments"][0]: needs string containerID and ifname',
    ]);
    expect(codeOf(() => attachmentOf(parseCniRequest(wire({ prevResult: { ips: [] } }))))).toEqual([7, 'config.prevResult.ips: missing or empty; the plugin before palisade assigned no address']);
  });
});
