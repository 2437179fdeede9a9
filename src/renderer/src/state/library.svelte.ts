import type { CallOutput, Collection, Generation, LibraryQuery, MeaningHit, MeaningStatus } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { plural } from '../lib/format';
import { app } from './app.svelte';
import { toasts } from './toasts.svelte';

/** The library's bulk calls take at most 1000 ids; a larger selection goes in batches and the counts add up. */
const BATCH = 1000;
/** library.export's limit per call (one export is one folder). */
const EXPORT_MAX = 10_000;

async function inBatches(ids: string[], run: (batch: string[]) => Promise<{ count: number }>): Promise<number> {
  let count = 0;
  for (let i = 0; i < ids.length; i += BATCH) count += (await run(ids.slice(i, i + BATCH))).count;
  return count;
}

export type KindFilter = GenerationKind | 'all';
export type ImportFolderResult = CallOutput<'library.importFolder'>;
export type Lineage = CallOutput<'library.lineage'>;

const PAGE = 200;
const NOTES_DELAY_MS = 600;

/**
 * The library: filters, paged listing or search results, the open generation, a multi-selection
 * for bulk actions, collections (boards), the trash and the compare set.
 */
class Library {
  kind = $state<KindFilter>('all');
  favourite = $state(false);
  minRating = $state(0);
  trash = $state(false);
  query = $state('');
  /** The open collection; the grid shows only its items. */
  collectionId = $state<string | null>(null);

  items = $state.raw<Generation[]>([]);
  snippets = $state.raw<Record<string, string>>({});
  total = $state(0);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<string | null>(null);
  selected = $state.raw<Generation | null>(null);
  lineage = $state.raw<Lineage | null>(null);

  /** Ids picked for bulk actions (Ctrl/Cmd+click, Shift+click, Ctrl+A). */
  picked = $state.raw<ReadonlySet<string>>(new Set());
  anchorIndex = $state<number | null>(null);
  collections = $state.raw<Collection[]>([]);
  /** Generations being compared side by side (2–4); empty when the compare view is closed. */
  compareItems = $state.raw<Generation[]>([]);
  notesState = $state<'idle' | 'saving' | 'saved' | 'error'>('idle');

  /** The index behind search by meaning (null until known). */
  meaning = $state.raw<MeaningStatus | null>(null);
  /** Search merges meaning with words while a model is chosen; off = words only. */
  meaningOn = $state(true);
  /** "More like this": the grid lists the items nearest to this one. */
  similarTo = $state.raw<Generation | null>(null);
  /** Why each result is in the list (cosine similarity, matched words), for the hover text. */
  reasons = $state.raw<Record<string, { similarity: number | null; words: boolean }>>({});
  sort = $state<'newest' | 'adherence'>('newest');

  searching = $derived(this.query.trim().length > 0 || this.similarTo !== null);
  meaningReady = $derived(this.meaning?.kinds.some((k) => k.model !== null) ?? false);
  collection = $derived(this.collections.find((c) => c.id === this.collectionId) ?? null);
  /** How many cells the grid lays out: the whole listing, loaded or not, so the scrollbar is honest. */
  slots = $derived(this.searching ? this.items.length : Math.max(this.items.length, this.total));
  #request = 0;
  #started = false;
  #searchTimer: ReturnType<typeof setTimeout> | undefined;
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

  /** The grid's filters as a library query (no paging). */
  #filters(): LibraryQuery {
    return {
      ...(this.kind !== 'all' ? { kind: this.kind } : {}),
      ...(this.favourite ? { favourite: true } : {}),
      ...(this.minRating > 0 ? { minRating: this.minRating } : {}),
      ...(this.collectionId ? { collectionId: this.collectionId } : {}),
      trash: this.trash,
      sort: this.sort,
    };
  }

  #query(cursor?: string): LibraryQuery {
    return { ...this.#filters(), limit: PAGE, ...(cursor ? { cursor } : {}) };
  }

  #matches(generation: Generation): boolean {
    return (
      (this.kind === 'all' || generation.kind === this.kind) &&
      (!this.favourite || generation.favourite) &&
      generation.rating >= this.minRating &&
      (generation.deletedAt !== null) === this.trash
    );
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
      if (this.similarTo || (this.searching && this.meaningOn && this.meaningReady)) {
        const kind = this.kind !== 'all' ? { kind: this.kind } : {};
        const result = this.similarTo
          ? await window.studio.library.similar({ id: this.similarTo.id, limit: 200 })
          : await window.studio.library.searchMeaning({ query: this.query.trim(), limit: 200, ...kind });
        if (request !== this.#request) return;
        this.#showHits(result.items);
      } else if (this.searching) {
        const result = await window.studio.library.search({
          query: this.query.trim(),
          limit: 200,
          ...(this.kind !== 'all' ? { kind: this.kind } : {}),
        });
        if (request !== this.#request) return;
        const inCollection = this.collectionId ? new Set(await this.#collectionIds(this.collectionId)) : null;
        if (request !== this.#request) return;
        const hits = result.items.filter((hit) => this.#matches(hit.generation) && (!inCollection || inCollection.has(hit.generation.id)));
        this.items = hits.map((hit) => hit.generation);
        this.reasons = Object.fromEntries(hits.map((hit) => [hit.generation.id, { similarity: null, words: true }]));
        this.snippets = Object.fromEntries(hits.map((hit) => [hit.generation.id, hit.snippet]));
        this.total = hits.length;
        this.nextCursor = null;
      } else {
        const page = await window.studio.library.list(this.#query());
        if (request !== this.#request) return;
        this.items = page.items;
        this.reasons = {};
        this.snippets = {};
        this.total = page.total;
        this.nextCursor = page.nextCursor;
      }
      const present = new Set(this.items.map((item) => item.id));
      if ([...this.picked].some((id) => !present.has(id))) this.picked = new Set([...this.picked].filter((id) => present.has(id)));
    } catch (error) {
      if (request === this.#request) this.error = messageOf(error);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  #showHits(hits: MeaningHit[]): void {
    const shown = hits.filter((hit) => this.#matches(hit.generation));
    this.items = shown.map((hit) => hit.generation);
    this.snippets = Object.fromEntries(shown.filter((hit) => hit.snippet).map((hit) => [hit.generation.id, hit.snippet]));
    this.reasons = Object.fromEntries(shown.map((hit) => [hit.generation.id, { similarity: hit.similarity, words: hit.words }]));
    this.total = shown.length;
    this.nextCursor = null;
  }

  /** Hover text saying why an item is in the results. */
  explain(id: string): string | undefined {
    const reason = this.reasons[id];
    if (!reason) return undefined;
    const parts: string[] = [];
    if (reason.similarity !== null) parts.push(`Meaning: ${reason.similarity.toFixed(2)} similarity (cosine, 1 = the same)`);
    if (reason.words) parts.push('Words: the prompt, text, notes or tags match');
    return parts.join(' · ');
  }

  /** Lists the items nearest to this one by meaning (pictures → pictures, texts → texts, music → music). */
  moreLikeThis(generation: Generation): void {
    this.similarTo = generation;
    void this.reload();
  }

  closeSimilar(): void {
    this.similarTo = null;
    void this.reload();
  }

  toggleMeaning(): void {
    this.meaningOn = !this.meaningOn;
    if (this.searching) void this.reload();
  }

  async #collectionIds(collectionId: string): Promise<string[]> {
    return (await window.studio.collections.items({ collectionId })).ids;
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

  // ---- multi-selection ----

  isPicked(id: string): boolean {
    return this.picked.has(id);
  }

  /** A plain click: this one item, and it becomes the range anchor. */
  pickOnly(index: number): void {
    const item = this.items[index];
    if (!item) return;
    this.picked = new Set([item.id]);
    this.anchorIndex = index;
  }

  togglePick(index: number): void {
    const item = this.items[index];
    if (!item) return;
    this.picked = this.picked.has(item.id) ? new Set([...this.picked].filter((id) => id !== item.id)) : new Set([...this.picked, item.id]);
    this.anchorIndex = index;
  }

  /** Shift+click / Shift+arrow: everything between the anchor and this index, added to the picks. */
  pickRange(index: number, additive: boolean): void {
    const anchor = this.anchorIndex ?? index;
    const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
    const range = this.items.slice(from, to + 1).map((item) => item.id);
    this.picked = new Set(additive ? [...this.picked, ...range] : range);
    this.anchorIndex ??= index;
  }

  /** Selects every item the filters match, also those not loaded yet (search results: the hits shown). */
  async pickAll(): Promise<void> {
    this.picked = new Set(this.items.map((item) => item.id));
    if (this.searching || this.items.length >= this.total) return;
    const request = this.#request;
    try {
      const { ids, truncated } = await window.studio.library.ids(this.#filters());
      if (request !== this.#request) return; // the filters changed meanwhile
      this.picked = new Set(ids);
      if (truncated) toasts.show(`Selected the first ${plural(ids.length, 'item')} that match`, 'info');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  clearPicks(): void {
    this.picked = new Set();
    this.anchorIndex = null;
  }

  /** The selection in grid order, then picks not loaded yet (after "select all") in library order. */
  pickedIds(): string[] {
    const inGrid = this.items.filter((item) => this.picked.has(item.id)).map((item) => item.id);
    if (inGrid.length === this.picked.size) return inGrid;
    const shown = new Set(inGrid);
    return [...inGrid, ...[...this.picked].filter((id) => !shown.has(id))];
  }

  // ---- single-item edits ----

  #replace(generation: Generation): void {
    this.items = this.items.map((item) => (item.id === generation.id ? generation : item));
    if (this.selectedId === generation.id) this.selected = generation;
    if (this.compareItems.some((item) => item.id === generation.id)) this.compareItems = this.compareItems.map((item) => (item.id === generation.id ? generation : item));
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

  async remove(id: string): Promise<void> {
    await this.removeMany([id]);
  }

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

  async restore(id: string): Promise<void> {
    await this.restoreMany([id]);
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
    try {
      const result = await window.studio.library.export({ ids, zip: false });
      if (result.unsigned) toasts.error(`Exported without Content Credentials: ${result.unsigned}`);
      return result;
    } catch (error) {
      toasts.error(messageOf(error));
      return null;
    }
  }

  async importFolder(path: string): Promise<ImportFolderResult | null> {
    try {
      const result = await window.studio.library.importFolder({ path });
      await this.reload();
      return result;
    } catch (error) {
      toasts.error(messageOf(error));
      return null;
    }
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
