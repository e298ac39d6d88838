import { messageOf } from '../../lib/api/client';

export type SaveState = 'idle' | 'saving' | 'saved' | 'error';

/**
 * A setting saved as soon as it changes (a checkbox, a radio): what the section shows while saving,
 * after, and when the server refuses. The control shows the server's value once it answers; `undo`
 * puts a control that changed by itself (an unbound checkbox) back when the save fails.
 */
export class SaveOnChange {
  state = $state<SaveState>('idle');
  error = $state<string | null>(null);

  async run(save: () => Promise<void>, undo?: () => void): Promise<void> {
    this.state = 'saving';
    this.error = null;
    try {
      await save();
      this.state = 'saved';
    } catch (err) {
      undo?.();
      this.error = messageOf(err);
      this.state = 'error';
    }
  }
}
