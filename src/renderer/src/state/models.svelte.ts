import type { InstalledModel } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { toasts } from './toasts.svelte';

/** Installed models (models.list), shared by the pickers and the Models view. */
class Models {
  items = $state.raw<InstalledModel[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  #pending: Promise<void> | null = null;

  ofKind(kind: GenerationKind): InstalledModel[] {
    return this.items.filter((model) => model.kind === kind);
  }

  ensure(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return this.refresh();
  }

  /** Registers a folder already on disk; the back end validates its layout first. */
  async importFolder(path: string, name?: string): Promise<boolean> {
    try {
      const model = await window.studio.models.import({ path, ...(name ? { name } : {}) });
      this.items = [...this.items.filter((item) => item.id !== model.id), model];
      toasts.show(`Imported ${model.name}`, 'success');
      return true;
    } catch (error) {
      toasts.error(messageOf(error));
      return false;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      const { usedBy } = await window.studio.models.remove({ id });
      this.items = this.items.filter((item) => item.id !== id);
      toasts.show(usedBy > 0 ? `Model removed; ${usedBy} generation(s) in the library still name it` : 'Model removed', 'info');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  refresh(): Promise<void> {
    this.#pending ??= (async () => {
      try {
        const { items } = await window.studio.models.list();
        this.items = items;
        this.error = null;
      } catch (error) {
        this.error = messageOf(error);
      } finally {
        this.loaded = true;
        this.#pending = null;
      }
    })();
    return this.#pending;
  }
}

export const models = new Models();
