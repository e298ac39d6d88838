/** Pure helpers of remote control input (ControlOverlay.svelte, the toolbar's visit box). */

/** Keys sent as `key` input (everything else with a printable character is `text`). */
export function isTextKey(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean }): boolean {
  return e.key.length === 1 && !e.ctrlKey && !e.metaKey;
}

/** Resolves what the agent typed into the URL box against the user's current page (same origin only is enforced by the plugin). */
export function resolveVisit(input: string, currentUrl: string | undefined): string | null {
  const text = input.trim();
  if (!text) return null;
  try {
    return new URL(text, currentUrl || undefined).href;
  } catch {
    return null;
  }
}
