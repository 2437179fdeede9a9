import type { Generation, LibraryQuery } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { toasts } from './toasts.svelte';

export type KindFilter = GenerationKind | 'all';

/** The library: filters, paged listing or search results, and the selected generation. */
class Library {
  kind = $state<KindFilter>('all');
  favourite = $state(false);
  minRating = $state(0);
  trash = $state(false);
  query = $state('');

  items = $state.raw<Generation[]>([]);
  snippets = $state.raw<Record<string, string>>({});
  total = $state(0);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<string | null>(null);
  selected = $state.raw<Generation | null>(null);

  searching = $derived(this.query.trim().length > 0);
  #request = 0;
  #started = false;
  #searchTimer: ReturnType<typeof setTimeout> | undefined;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    window.studio.on('library.changed', ({ ids }) => void this.#refreshIds(ids));
    void this.reload();
  }

  #query(cursor?: string): LibraryQuery {
    return {
      ...(this.kind !== 'all' ? { kind: this.kind } : {}),
      ...(this.favourite ? { favourite: true } : {}),
      ...(this.minRating > 0 ? { minRating: this.minRating } : {}),
      trash: this.trash,
      sort: 'newest',
      limit: 120,
      ...(cursor ? { cursor } : {}),
    };
  }

  searchSoon(): void {
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => void this.reload(), 200);
  }

  async reload(): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    this.error = null;
    try {
      if (this.searching) {
        const result = await window.studio.library.search({
          query: this.query.trim(),
          limit: 200,
          ...(this.kind !== 'all' ? { kind: this.kind } : {}),
        });
        if (request !== this.#request) return;
        const hits = result.items.filter(
          (hit) =>
            (!this.favourite || hit.generation.favourite) &&
            hit.generation.rating >= this.minRating &&
            (hit.generation.deletedAt !== null) === this.trash,
        );
        this.items = hits.map((hit) => hit.generation);
        this.snippets = Object.fromEntries(hits.map((hit) => [hit.generation.id, hit.snippet]));
        this.total = hits.length;
        this.nextCursor = null;
      } else {
        const page = await window.studio.library.list(this.#query());
        if (request !== this.#request) return;
        this.items = page.items;
        this.snippets = {};
        this.total = page.total;
        this.nextCursor = page.nextCursor;
      }
    } catch (error) {
      if (request === this.#request) this.error = messageOf(error);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (this.loading || !this.nextCursor || this.searching) return;
    const request = this.#request;
    this.loading = true;
    try {
      const page = await window.studio.library.list(this.#query(this.nextCursor));
      if (request !== this.#request) return;
      const known = new Set(this.items.map((item) => item.id));
      this.items = [...this.items, ...page.items.filter((item) => !known.has(item.id))];
      this.nextCursor = page.nextCursor;
      this.total = page.total;
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  async select(id: string | null): Promise<void> {
    this.selectedId = id;
    if (!id) {
      this.selected = null;
      return;
    }
    const local = this.items.find((item) => item.id === id);
    if (local) this.selected = local;
    try {
      const fresh = await window.studio.library.get({ id });
      if (this.selectedId === id) this.selected = fresh;
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  #replace(generation: Generation): void {
    this.items = this.items.map((item) => (item.id === generation.id ? generation : item));
    if (this.selectedId === generation.id) this.selected = generation;
  }

  async rate(id: string, rating: number): Promise<void> {
    try {
      this.#replace(await window.studio.library.rate({ id, rating }));
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async toggleFavourite(generation: Generation): Promise<void> {
    try {
      this.#replace(await window.studio.library.rate({ id: generation.id, favourite: !generation.favourite }));
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async tag(id: string, add: string[], remove: string[]): Promise<void> {
    try {
      this.#replace(await window.studio.library.tag({ id, add, remove }));
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await window.studio.library.delete({ ids: [id] });
      this.items = this.items.filter((item) => item.id !== id);
      this.total = Math.max(0, this.total - 1);
      if (this.selectedId === id) void this.select(null);
      toasts.show('Moved to trash', 'info', { label: 'Undo', run: () => this.restore(id) });
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async restore(id: string): Promise<void> {
    try {
      await window.studio.library.restore({ ids: [id] });
      await this.reload();
      toasts.show('Restored', 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async #refreshIds(ids: string[]): Promise<void> {
    const known = new Set(this.items.map((item) => item.id));
    if (ids.some((id) => !known.has(id))) {
      await this.reload();
      return;
    }
    for (const id of ids) {
      try {
        const fresh = await window.studio.library.get({ id });
        this.#replace(fresh);
      } catch {
        // deleted elsewhere: the next reload drops it
      }
    }
  }
}

export const library = new Library();
