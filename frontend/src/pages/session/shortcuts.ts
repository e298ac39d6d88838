import type { PlayerController } from './player.svelte';

/** Arrow keys step this much; with Shift, the longer step. */
export const STEP_MS = 5_000;
export const LONG_STEP_MS = 15_000;

/** What the shortcuts list in the controls shows (keep in step with `handlePlayerKey`). */
export const SHORTCUTS: { keys: string; does: string }[] = [
  { keys: 'Space', does: 'Play / pause' },
  { keys: '← / →', does: `Back / forward ${STEP_MS / 1000} s` },
  { keys: 'Shift + ← / →', does: `Back / forward ${LONG_STEP_MS / 1000} s` },
  { keys: 'Home / End', does: 'Start / end' },
];

/**
 * Page-wide player keys. Keys typed into a field, a button or the scrub bar (which handles its own
 * arrows) are left alone, as are shortcuts with modifiers the browser owns.
 */
export function handlePlayerKey(event: KeyboardEvent, player: PlayerController): void {
  if (event.metaKey || event.ctrlKey || event.altKey) return;
  const target = event.target as HTMLElement | null;
  if (target?.closest('input, select, textarea, button, [role="slider"], [contenteditable="true"]')) return;
  const step = event.shiftKey ? LONG_STEP_MS : STEP_MS;
  switch (event.key) {
    case ' ':
      event.preventDefault();
      player.toggle();
      break;
    case 'ArrowLeft':
      event.preventDefault();
      player.seek(player.currentTime - step);
      break;
    case 'ArrowRight':
      event.preventDefault();
      player.seek(player.currentTime + step);
      break;
    case 'Home':
      event.preventDefault();
      player.seek(0);
      break;
    case 'End':
      event.preventDefault();
      player.seek(player.totalTime);
      break;
    default:
      break;
  }
}
