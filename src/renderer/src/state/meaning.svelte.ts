import type { CatalogItem, MeaningStatus, SearchableKind } from '../../../shared/contract';
import { messageOf } from '../lib/errors';
import { MEANING_KIND_LABEL } from '../lib/meaning-kinds';
import { isDtype, models } from './models.svelte';
import { toasts } from './toasts.svelte';

type UsableKind = MeaningStatus['kinds'][number]['kind'];

/** The index behind search by meaning, as the Queue, the Models view and the Library show it. */
class Meaning {
  status = $state.raw<MeaningStatus | null>(null);
  /** Downloads started "to search by meaning": used for search as soon as they are installed. */
  #useWhenInstalled = new Map<string, UsableKind[]>();
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    window.studio.on('meaning.status', (next) => (this.status = next));
    window.studio.on('models.progress', (state) => {
      const kinds = this.#useWhenInstalled.get(state.repo);
      if (state.status !== 'done' || !kinds) return;
      this.#useWhenInstalled.delete(state.repo);
      for (const kind of kinds) void this.use(state.id, kind, state.repo);
    });
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.status = await window.studio.meaning.status({});
    } catch {
      // The Queue and Library say nothing about the index until the next status event.
    }
  }

  /** The model chosen for a kind (null when none); undefined when this build cannot search that kind. */
  modelFor(kind: SearchableKind): string | null | undefined {
    const entry = this.status?.kinds.find((k) => k.kind === kind);
    return entry ? entry.model : undefined;
  }

  /** Kinds of an embedding model this build can search by meaning. */
  usableKinds(item: CatalogItem): UsableKind[] {
    return (this.status?.kinds ?? []).map((k) => k.kind).filter((kind) => item.embeds?.includes(kind) ?? false);
  }

  async use(model: string, kind?: UsableKind, name = model): Promise<void> {
    try {
      this.status = await window.studio.meaning.useModel({ model, ...(kind ? { kind } : {}) });
      toasts.show(`Search by meaning uses ${name}${kind ? ` for ${MEANING_KIND_LABEL[kind]}` : ''}; indexing runs in the Queue`, 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  /** Downloads a catalog embedding model and uses it for search once it is installed. */
  async download(item: CatalogItem): Promise<void> {
    if (!isDtype(item.defaultDtype)) return;
    this.#useWhenInstalled.set(item.repo, this.usableKinds(item));
    await models.pull(item, { dtype: item.defaultDtype });
    if (models.pullErrors[item.id]) toasts.error(models.pullErrors[item.id]!.message);
    else toasts.show(`Downloading ${item.title}: progress in Models`, 'info');
  }

  async setPaused(paused: boolean): Promise<void> {
    try {
      this.status = await window.studio.meaning.setPaused({ paused });
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }
}

export const meaning = new Meaning();
