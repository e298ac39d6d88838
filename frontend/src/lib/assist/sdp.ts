/** The `a=fingerprint:` line of an SDP (identifies the other side's RTCPeerConnection). */
export function fingerprintOf(sdp: string): string | null {
  const match = /^a=fingerprint:(.+)$/m.exec(sdp);
  return match ? match[1].trim() : null;
}
