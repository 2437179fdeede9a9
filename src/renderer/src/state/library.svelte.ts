import type { CallOutput, Collection, Generation } from '../../../shared/contract';
import { messageOf } from '../lib/errors';
import { plural } from '../lib/format';
import { app } from './app.svelte';
import { LibraryListing } from './library-listing.svelte';
import { toasts } from './toasts.svelte';

export type { KindFilter } from './library-listing.svelte';

/** The library's bulk calls take at most 1000 ids; a larger selection goes in batches and the counts add up. */
const BATCH = 1000;
/** library.export's limit per call (one export is one folder). */
const EXPORT_MAX = 10_000;

async function inBatches(ids: string[], run: (batch: string[]) => Promise<{ count: number }>): Promise<number> {
  let count = 0;
  for (let i = 0; i < ids.length; i += BATCH) count += (await run(ids.slice(i, i + BATCH))).count;
  return count;
}

export type ImportFolderResult = CallOutput<'library.importFolder'>;
export type Lineage = CallOutput<'library.lineage'>;

const NOTES_DELAY_MS = 600;

/**
 * The library: what the grid lists (LibraryListing) plus the open generation, edits to it, bulk
 * actions on the picked items, collections (boards), the trash and the compare set.
 */
class Library extends LibraryListing {
  selectedId = $state<string | null>(null);
  selected = $state.raw<Generation | null>(null);
  lineage = $state.raw<Lineage | null>(null);
  collections = $state.raw<Collection[]>([]);
  /** Generations being compared side by side (2–4); empty when the compare view is closed. */
  compareItems = $state.raw<Generation[]>([]);
  notesState = $state<'idle' | 'saving' | 'saved' | 'error'>('idle');

  collection = $derived(this.collections.find((c) => c.id === this.collectionId) ?? null);
  #started = false;
  #notesTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingNotes: { id: string; notes: string } | null = null;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    window.studio.on('library.changed', ({ ids }) => void this.#refreshIds(ids));
    window.studio.on('meaning.status', (status) => (this.meaning = status));
    void window.studio.meaning
      .status({})
      .then((status) => (this.meaning = status))
      .catch(() => undefined);
    void this.reload();
    void this.loadCollections();
  }

  /** library.get for each id, a few at a time; ids emptied from the trash meanwhile are skipped. */
  async #fetchMany(ids: string[]): Promise<Generation[]> {
    const out: Generation[] = [];
    for (let i = 0; i < ids.length; i += 16) {
      const batch = await Promise.all(ids.slice(i, i + 16).map((id) => window.studio.library.get({ id }).catch(() => null)));
      for (const g of batch) if (g) out.push(g);
    }
    return out;
  }

  /** Switches to the Library view with this generation selected (a studio tab's "Open in library"). */
  open(generation: Generation): void {
    void this.select(generation.id);
    app.view = 'library';
  }

  async select(id: string | null): Promise<void> {
    void this.flushNotes();
    this.selectedId = id;
    this.lineage = null;
    if (!id) {
      this.selected = null;
      return;
    }
    const local = this.items.find((item) => item.id === id);
    if (local) this.selected = local;
    try {
      const [fresh, lineage] = await Promise.all([window.studio.library.get({ id }), window.studio.library.lineage({ id })]);
      if (this.selectedId === id) {
        this.selected = fresh;
        this.lineage = lineage;
      }
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  // ---- single-item edits ----

  #replace(generation: Generation): void {
    this.items = this.items.map((item) => (item.id === generation.id ? generation : item));
    if (this.selectedId === generation.id) this.selected = generation;
    if (this.compareItems.some((item) => item.id === generation.id)) this.compareItems = this.compareItems.map((item) => (item.id === generation.id ? generation : item));
  }

  /** One edit the library answers with the changed generation; a failure is shown, not thrown. */
  async #edit(call: () => Promise<Generation>): Promise<void> {
    const changed = await toasts.guard(call);
    if (changed) this.#replace(changed);
  }

  rate(id: string, rating: number): Promise<void> {
    return this.#edit(() => window.studio.library.rate({ id, rating }));
  }

  toggleFavourite(generation: Generation): Promise<void> {
    return this.#edit(() => window.studio.library.rate({ id: generation.id, favourite: !generation.favourite }));
  }

  tag(id: string, add: string[], remove: string[]): Promise<void> {
    return this.#edit(() => window.studio.library.tag({ id, add, remove }));
  }

  /** Notes save themselves a moment after typing stops; switching items saves at once. */
  editNotes(id: string, notes: string): void {
    this.#pendingNotes = { id, notes };
    this.notesState = 'saving';
    clearTimeout(this.#notesTimer);
    this.#notesTimer = setTimeout(() => void this.flushNotes(), NOTES_DELAY_MS);
  }

  async flushNotes(): Promise<void> {
    clearTimeout(this.#notesTimer);
    const pending = this.#pendingNotes;
    if (!pending) return;
    this.#pendingNotes = null;
    try {
      const fresh = await window.studio.library.notes(pending);
      this.items = this.items.map((item) => (item.id === fresh.id ? fresh : item));
      if (this.selectedId === fresh.id && !this.#pendingNotes) this.selected = fresh;
      if (!this.#pendingNotes) this.notesState = 'saved';
    } catch (error) {
      this.notesState = 'error';
      toasts.error(`Notes were not saved: ${messageOf(error)}`);
    }
  }

  // ---- bulk actions ----

  async removeMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const count = await inBatches(ids, (batch) => window.studio.library.delete({ ids: batch }));
      const gone = new Set(ids);
      this.items = this.items.filter((item) => !gone.has(item.id));
      this.total = Math.max(0, this.total - count);
      this.picked = new Set([...this.picked].filter((id) => !gone.has(id)));
      if (this.selectedId && gone.has(this.selectedId)) void this.select(null);
      toasts.show(count === 1 ? 'Moved to trash' : `Moved ${count} items to trash`, 'info', { label: 'Undo', run: () => this.restoreMany(ids) });
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async restoreMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const count = await inBatches(ids, (batch) => window.studio.library.restore({ ids: batch }));
      await this.reload();
      if (this.selectedId && ids.includes(this.selectedId)) void this.select(this.selectedId);
      toasts.show(count === 1 ? 'Restored' : `Restored ${count} items`, 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  /** Empties the trash for good (rows and files nothing else uses). */
  async emptyTrash(): Promise<void> {
    try {
      const report = await window.studio.library.purge({});
      this.clearPicks();
      if (this.selected?.deletedAt != null) void this.select(null);
      await this.reload();
      toasts.show(`Emptied the trash: ${plural(report.generations, 'item')}, ${plural(report.files, 'file')}`, 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async tagMany(ids: string[], add: string[]): Promise<void> {
    if (ids.length === 0 || add.length === 0) return;
    try {
      let added: string[] = [];
      const count = await inBatches(ids, async (batch) => {
        const result = await window.studio.library.tagMany({ ids: batch, add, remove: [] });
        added = result.added;
        return result;
      });
      // The same tags as the library now holds, without fetching every item again.
      const tagged = new Set(ids);
      for (const item of this.items) {
        if (!tagged.has(item.id)) continue;
        const have = new Set(item.tags.map((tag) => tag.toLowerCase()));
        const tags = [...item.tags, ...added.filter((tag) => !have.has(tag.toLowerCase()))].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
        this.#replace({ ...item, tags });
      }
      toasts.show(`Tagged ${plural(count, 'item')}`, 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async exportMany(ids: string[]): Promise<CallOutput<'library.export'> | null> {
    if (ids.length > EXPORT_MAX) {
      toasts.error(`One export takes at most ${EXPORT_MAX.toLocaleString('en')} items; ${plural(ids.length, 'item')} are selected. Narrow the selection with the filters; for everything use the command line: atelier library backup.`);
      return null;
    }
    return toasts.guard(async () => {
      const result = await window.studio.library.export({ ids, zip: false });
      if (result.unsigned) toasts.error(`Exported without Content Credentials: ${result.unsigned}`);
      return result;
    });
  }

  importFolder(path: string): Promise<ImportFolderResult | null> {
    return toasts.guard(async () => {
      const result = await window.studio.library.importFolder({ path });
      await this.reload();
      return result;
    });
  }

  // ---- compare ----

  async openCompare(ids: string[]): Promise<void> {
    if (ids.length < 2 || ids.length > 4) {
      toasts.error('Pick 2 to 4 items to compare.');
      return;
    }
    this.compareItems = await this.#fetchMany(ids);
  }

  closeCompare(): void {
    this.compareItems = [];
  }

  // ---- collections ----

  async loadCollections(): Promise<void> {
    try {
      this.collections = (await window.studio.collections.list({})).items;
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async createCollection(name: string, addIds: string[] = []): Promise<Collection | null> {
    try {
      const created = await window.studio.collections.create({ name });
      if (addIds.length > 0) await inBatches(addIds, (batch) => window.studio.collections.add({ collectionId: created.id, ids: batch }));
      await this.loadCollections();
      toasts.show(addIds.length > 0 ? `Created “${created.name}” with ${plural(addIds.length, 'item')}` : `Created “${created.name}”`, 'success');
      return created;
    } catch (error) {
      toasts.error(messageOf(error));
      return null;
    }
  }

  async addToCollection(collectionId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const count = await inBatches(ids, (batch) => window.studio.collections.add({ collectionId, ids: batch }));
      await this.loadCollections();
      const name = this.collections.find((c) => c.id === collectionId)?.name ?? 'the collection';
      toasts.show(`Added ${plural(count, 'item')} to “${name}”`, 'success');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async removeFromCollection(collectionId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await inBatches(ids, (batch) => window.studio.collections.remove({ collectionId, ids: batch }));
      await this.loadCollections();
      if (this.collectionId === collectionId) {
        this.clearPicks();
        await this.reload();
      }
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async deleteCollection(collectionId: string): Promise<void> {
    try {
      await window.studio.collections.delete({ collectionId });
      if (this.collectionId === collectionId) this.collectionId = null;
      await this.loadCollections();
      await this.reload();
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  openCollection(collectionId: string | null): void {
    this.collectionId = collectionId;
    this.trash = false;
    this.clearPicks();
    void this.reload();
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
