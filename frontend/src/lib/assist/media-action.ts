/** `use:media={stream}`: plays a MediaStream in a <video> (srcObject cannot be set from markup). */
export function media(node: HTMLVideoElement, stream: MediaStream | null) {
  const set = (s: MediaStream | null) => {
    if (node.srcObject === s) return;
    node.srcObject = s;
    // Autoplay may be refused until the agent touches the page; it pressed a button to get here.
    if (s) void node.play().catch(() => {});
  };
  set(stream);
  return {
    update: set,
    destroy() {
      node.srcObject = null;
    },
  };
}
