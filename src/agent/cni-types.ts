export interface CniPodAttachment { readonly containerId: string; readonly netns: string; readonly ifname: string; readonly namespace: string; readonly name: string; readonly ips: readonly string[]; readonly hostInterface?: string }
export interface CniAgent {
  podAdded(p: CniPodAttachment, signal: AbortSignal): Promise<void>;
  podDeleted(p: { readonly containerId: string; readonly namespace?: string; readonly name?: string; readonly ifname: string }): Promise<void>;
  podCheck(p: CniPodAttachment): Promise<void>;
}
