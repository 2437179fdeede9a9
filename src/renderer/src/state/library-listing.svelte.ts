import type { Generation, LibraryQuery, MeaningHit, MeaningStatus } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { plural } from '../lib/format';
import { toasts } from './toasts.svelte';

export type KindFilter = GenerationKind | 'all';

const PAGE = 200;

/**
 * A set of generation ids that is never changed in place: a change of the picks assigns a new set,
 * which is what makes `$state.raw` see it (so no SvelteSet is needed).
 */
function idSet(ids: Iterable<string> = []): ReadonlySet<string> {
  return new Set(ids);
}

/**
 * What the library grid lists: the filters, the paged listing or the search results (by words,
 * by meaning, or "more like this") and the multi-selection over them. `Library` adds what is done
 * to the items (library.svelte.ts).
 */
export class LibraryListing {
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
  /** Ids picked for bulk actions (Ctrl/Cmd+click, Shift+click, Ctrl+A). */
  picked = $state.raw<ReadonlySet<string>>(idSet());
  anchorIndex = $state<number | null>(null);

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
  /** How many cells the grid lays out: the whole listing, loaded or not, so the scrollbar is honest. */
  slots = $derived(this.searching ? this.items.length : Math.max(this.items.length, this.total));
  #request = 0;
  #searchTimer: ReturnType<typeof setTimeout> | undefined;

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
        const inCollection = this.collectionId ? idSet(await this.#collectionIds(this.collectionId)) : null;
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
      const present = idSet(this.items.map((item) => item.id));
      if ([...this.picked].some((id) => !present.has(id))) this.picked = idSet([...this.picked].filter((id) => present.has(id)));
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

  async loadMore(): Promise<void> {
    if (this.loading || !this.nextCursor || this.searching) return;
    const request = this.#request;
    this.loading = true;
    try {
      const page = await window.studio.library.list(this.#query(this.nextCursor));
      if (request !== this.#request) return;
      const known = idSet(this.items.map((item) => item.id));
      this.items = [...this.items, ...page.items.filter((item) => !known.has(item.id))];
      this.nextCursor = page.nextCursor;
      this.total = page.total;
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      if (request === this.#request) this.loading = false;
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
    this.picked = idSet([item.id]);
    this.anchorIndex = index;
  }

  togglePick(index: number): void {
    const item = this.items[index];
    if (!item) return;
    this.picked = this.picked.has(item.id) ? idSet([...this.picked].filter((id) => id !== item.id)) : idSet([...this.picked, item.id]);
    this.anchorIndex = index;
  }

  /** Shift+click / Shift+arrow: everything between the anchor and this index, added to the picks. */
  pickRange(index: number, additive: boolean): void {
    const anchor = this.anchorIndex ?? index;
    const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
    const range = this.items.slice(from, to + 1).map((item) => item.id);
    this.picked = idSet(additive ? [...this.picked, ...range] : range);
    this.anchorIndex ??= index;
  }

  /** Selects every item the filters match, also those not loaded yet (search results: the hits shown). */
  async pickAll(): Promise<void> {
    this.picked = idSet(this.items.map((item) => item.id));
    if (this.searching || this.items.length >= this.total) return;
    const request = this.#request;
    try {
      const { ids, truncated } = await window.studio.library.ids(this.#filters());
      if (request !== this.#request) return; // the filters changed meanwhile
      this.picked = idSet(ids);
      if (truncated) toasts.show(`Selected the first ${plural(ids.length, 'item')} that match`, 'info');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  clearPicks(): void {
    this.picked = idSet();
    this.anchorIndex = null;
  }

  /** The selection in grid order, then picks not loaded yet (after "select all") in library order. */
  pickedIds(): string[] {
    const inGrid = this.items.filter((item) => this.picked.has(item.id)).map((item) => item.id);
    if (inGrid.length === this.picked.size) return inGrid;
    const shown = idSet(inGrid);
    return [...inGrid, ...[...this.picked].filter((id) => !shown.has(id))];
  }
}
