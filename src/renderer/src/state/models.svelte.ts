import type { InstalledModel } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { messageOf } from '../lib/errors';

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
