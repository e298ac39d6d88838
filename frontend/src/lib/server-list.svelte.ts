import { messageOf } from './api/client';

/**
 * A list the server keeps (API keys, agents), as a settings section shows it: read when the section
 * mounts (`loading` until the first answer; `error`, the message, for an alert with Retry), and items
 * removed one at a time (`removing` is the id in flight, `removeError` why the last removal failed).
 * `items` may be replaced after an add.
 */
export class ServerList<T extends { id: string }> {
  items = $state<T[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  removing = $state<string | null>(null);
  removeError = $state<string | null>(null);

  #fetch: () => Promise<T[]>;

  constructor(fetch: () => Promise<T[]>) {
    this.#fetch = fetch;
  }

  /** Loads (again, for Retry); never throws. */
  load = async (): Promise<void> => {
    this.loading = true;
    this.error = null;
    try {
      this.items = await this.#fetch();
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.loading = false;
    }
  };

  /** Removes `item` on the server (`call`), then from the list; resolves to whether it is gone. Never throws. */
  async remove(item: T, call: () => Promise<void>): Promise<boolean> {
    this.removing = item.id;
    this.removeError = null;
    try {
      await call();
      this.items = this.items.filter((x) => x.id !== item.id);
      return true;
    } catch (err) {
      this.removeError = messageOf(err);
      return false;
    } finally {
      this.removing = null;
    }
  }
}
