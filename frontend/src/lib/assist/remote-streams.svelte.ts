import type { CanvasStreamInfo, PeerId } from '@tandem/protocol';

export interface RemoteStream {
  peerId: PeerId;
  /** The peer it came on (peers.ts peerKey: the call's `tab:…` or the canvases' `canvas:tab:…`). */
  key: string;
  stream: MediaStream;
}

/**
 * Every media stream received on the session's peers, and which of them are canvases: the tab tells
 * its watchers with `canvas:streams` (stream id → rrweb node id); any other stream is call media
 * (ISSUE7: "any other stream is the call"). Either may arrive first, so the split is derived.
 */
export class RemoteStreams {
  all = $state.raw<RemoteStream[]>([]);
  /** tabId → the canvases it streams now */
  canvases = $state.raw<Map<string, CanvasStreamInfo[]>>(new Map());

  #canvasIds = $derived(new Set([...this.canvases.values()].flat().map((c) => c.streamId)));
  /** Call media: streams that are not canvases. */
  call = $derived(this.all.filter((r) => !this.#canvasIds.has(r.stream.id)));

  add(peerId: PeerId, stream: MediaStream, key: string = peerId): void {
    if (this.all.some((r) => r.stream === stream)) return;
    this.all = [...this.all, { peerId, key, stream }];
  }

  /** A stream lost its last track (the tab stopped a canvas or the call): forget it. */
  changed(stream: MediaStream): void {
    if (stream.getTracks().length === 0) this.all = this.all.filter((r) => r.stream !== stream);
    else this.all = [...this.all];
  }

  /** The peer `key` closed: its streams are gone (the pair's other peer keeps its own). */
  dropPeer(key: string): void {
    this.all = this.all.filter((r) => r.key !== key);
  }

  setCanvases(tabId: string, streams: CanvasStreamInfo[]): void {
    const next = new Map(this.canvases);
    if (streams.length) next.set(tabId, streams);
    else next.delete(tabId);
    this.canvases = next;
  }

  /** The canvases of one tab with their stream, when it arrived. */
  canvasesOf(tabId: string | null): { info: CanvasStreamInfo; stream: MediaStream }[] {
    if (!tabId) return [];
    const peer = `tab:${tabId}`;
    const out: { info: CanvasStreamInfo; stream: MediaStream }[] = [];
    for (const info of this.canvases.get(tabId) ?? []) {
      const found = this.all.find((r) => r.peerId === peer && r.stream.id === info.streamId);
      if (found) out.push({ info, stream: found.stream });
    }
    return out;
  }
}
