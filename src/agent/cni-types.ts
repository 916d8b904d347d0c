/**
 * The contract between the CNI plugin's socket server (src/agent/cni/server.ts) and the agent:
 * the server decodes one CNI invocation and calls these; the agent (cni-agent.ts) answers once
 * the kernel holds the pod's policy. Types only; no code.
 *
 * Invariants the agent keeps:
 * - `podAdded` resolves only once the policy for the pod, with exactly `ips`, is in the kernel
 *   (the API server may not report the pod's IPs yet: the agent merges them into its pod record);
 *   it rejects when `signal` aborts first (the plugin's deadline) or the pod never appears.
 * - `podDeleted` is idempotent (CNI DEL may repeat, and may come for a pod the agent never saw).
 * - `podCheck` rejects when the pod's record in force does not hold these IPs.
 */
export interface CniPodAttachment {
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly hostInterface?: string;
}

export interface CniAgent {
  /** resolves once the pod's policy WITH THESE IPS is in the kernel */
  podAdded(p: CniPodAttachment, signal: AbortSignal): Promise<void>;
  /** idempotent */
  podDeleted(p: { readonly containerId: string; readonly namespace?: string; readonly name?: string; readonly ifname: string }): Promise<void>;
  podCheck(p: CniPodAttachment): Promise<void>;
}
