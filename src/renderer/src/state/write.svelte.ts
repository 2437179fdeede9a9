import type { AiPassage, DocumentSummary, DocumentVersionSummary, EventPayload, Generation, Job, StudioDocument } from '../../../shared/contract';
import type { TextParams } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { countWords } from '../lib/format';
import { resolveSeed, type SeedMode } from './generation-job.svelte';
import { isFinished, jobs } from './jobs.svelte';
import { str } from './params-read';
import { toasts } from './toasts.svelte';
import { forgetLegacyPassages, legacyPassages } from './write-passages';

export type AiAction = Exclude<TextParams['action'], 'instruct'>;
export type SaveState = 'saved' | 'dirty' | 'saving' | 'error';
type TokenEvent = EventPayload<'jobs.token'>;
export type Outcome = 'accepted' | 'rejected';

/** Generation settings shown in the inspector; the defaults match the engine's. */
export const TEXT_DEFAULTS = { temperature: 0.8, topP: 0.95, topK: 50, repetitionPenalty: 1.1, maxNewTokens: 160 } as const;

const SAVE_DEBOUNCE_MS = 500;
/** Continuous typing still saves at least this often. */
const SAVE_MAX_WAIT_MS = 1000;

/** The Write tab: documents, autosave, and the state of the AI job streaming into the editor. */
class Writer {
  documents = $state.raw<DocumentSummary[]>([]);
  loaded = $state(false);
  current = $state.raw<StudioDocument | null>(null);
  title = $state('');
  notes = $state('');
  body = $state('');
  /** The AI-written passages of the current document, saved with it (see StoredPassage). */
  aiPassages = $state.raw<AiPassage[]>([]);
  saveState = $state<SaveState>('saved');
  saveError = $state<string | null>(null);
  model = $state('');

  jobId = $state<string | null>(null);
  action = $state<AiAction | null>(null);
  starting = $state(false);
  aiError = $state<string | null>(null);
  tokens = $state(0);
  tokensPerSecond = $state<number | null>(null);
  firstTokenMs = $state<number | null>(null);

  temperature = $state<number>(TEXT_DEFAULTS.temperature);
  topP = $state<number>(TEXT_DEFAULTS.topP);
  topK = $state<number>(TEXT_DEFAULTS.topK);
  repetitionPenalty = $state<number>(TEXT_DEFAULTS.repetitionPenalty);
  maxNewTokens = $state<number>(TEXT_DEFAULTS.maxNewTokens);
  seedMode = $state<SeedMode>('random');
  seed = $state(0);
  lastSeed = $state<number | null>(null);

  versions = $state.raw<DocumentVersionSummary[]>([]);
  versionsError = $state<string | null>(null);
  /** Bumped when the text is replaced from outside the editor (restore, import); the editor reloads. */
  reloads = $state(0);
  focusMode = $state(false);

  /** The search over documents (title, notes and text) and its hits, newest query only. */
  searchQuery = $state('');
  searchHits = $state.raw<{ document: DocumentSummary; snippet: string }[]>([]);
  #searchSeq = 0;

  words = $derived(countWords(this.body));
  characters = $derived(this.body.length);
  job = $derived(this.jobId ? jobs.items.find((job) => job.id === this.jobId) : undefined);
  streaming = $derived(this.starting || (this.jobId !== null && (this.job === undefined || !isFinished(this.job.state))));

  /** Set by the editor: receives streamed text for the active job. */
  ontoken: ((text: string) => void) | null = null;
  #early: TokenEvent[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstDirtyAt = 0;
  #saving: Promise<void> | null = null;
  #started = false;
  /** Outcomes waiting for their job to finish and report its generation ids. */
  #waiting = new Map<string, ((ids: string[]) => void)[]>();

  init(): void {
    if (this.#started) return;
    this.#started = true;
    window.studio.on('jobs.token', (event) => this.#onToken(event));
    jobs.onFinished((job) => {
      this.#settle(job);
      if (job.id !== this.jobId) return;
      if (job.state === 'failed') this.aiError = job.error?.message ?? 'The writing job failed.';
    });
    window.addEventListener('beforeunload', () => void this.flush());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') void this.flush();
    });
    void this.loadList(true);
  }

  async loadList(openFirst = false): Promise<void> {
    try {
      const { items } = await window.studio.documents.list({ trash: false });
      this.documents = [...items].sort((a, b) => b.updatedAt - a.updatedAt);
      if (openFirst && !this.current && this.documents[0]) await this.open(this.documents[0].id);
    } catch (error) {
      toasts.error(messageOf(error));
    } finally {
      this.loaded = true;
    }
  }

  async open(id: string): Promise<void> {
    if (this.current?.id === id) return;
    await this.flush();
    try {
      const document = await window.studio.documents.get({ id });
      this.#show(document);
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  #show(document: StudioDocument | null): void {
    this.current = document;
    this.title = document?.title ?? '';
    this.notes = document?.notes ?? '';
    this.body = document?.body ?? '';
    const legacy = document ? legacyPassages(document.id) : [];
    this.aiPassages = document && document.aiPassages.length === 0 && legacy.length > 0 ? legacy : (document?.aiPassages ?? []);
    this.saveState = 'saved';
    this.saveError = null;
    this.versions = [];
    void this.loadVersions();
    // Passages an earlier version kept in this browser move into the document with one save.
    if (document && this.aiPassages === legacy) this.#markDirty();
    if (document) forgetLegacyPassages(document.id);
  }

  async create(): Promise<void> {
    await this.flush();
    try {
      const document = await window.studio.documents.create({ title: 'Untitled', body: '' });
      this.documents = [document, ...this.documents];
      this.#show(document);
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async search(query: string): Promise<void> {
    this.searchQuery = query;
    const seq = ++this.#searchSeq;
    if (query.trim() === '') {
      this.searchHits = [];
      return;
    }
    // The body being typed is saved first, so the search sees what is on screen.
    await this.flush();
    try {
      const { items } = await window.studio.documents.search({ query: query.slice(0, 500) });
      if (seq === this.#searchSeq) this.searchHits = items;
    } catch (error) {
      if (seq === this.#searchSeq) toasts.error(messageOf(error));
    }
  }

  async remove(id: string): Promise<void> {
    if (this.current?.id === id) {
      clearTimeout(this.#timer);
      await this.flush();
    }
    try {
      await window.studio.documents.delete({ id });
      const removed = this.documents.find((doc) => doc.id === id);
      this.documents = this.documents.filter((doc) => doc.id !== id);
      if (this.current?.id === id) {
        const next = this.documents[0];
        this.#show(null);
        if (next) await this.open(next.id);
      }
      toasts.show(`Moved “${removed?.title || 'Untitled'}” to the trash (kept 30 days)`, 'info', { label: 'Undo', run: () => this.restore(id) }, 10_000);
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async restore(id: string): Promise<void> {
    try {
      const document = await window.studio.documents.restore({ id });
      await this.flush();
      this.documents = [document, ...this.documents.filter((doc) => doc.id !== id)];
      this.#show(document);
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  setBody(body: string): void {
    this.body = body;
    this.#markDirty();
  }

  setTitle(title: string): void {
    this.title = title;
    this.#markDirty();
  }

  setNotes(notes: string): void {
    this.notes = notes;
    this.#markDirty();
  }

  setAiPassages(documentId: string, passages: AiPassage[]): void {
    if (this.current?.id !== documentId) return;
    this.aiPassages = passages;
    this.#markDirty();
  }

  #markDirty(): void {
    if (!this.current) return;
    const now = Date.now();
    if (this.saveState !== 'dirty') this.#firstDirtyAt = now;
    this.saveState = 'dirty';
    clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(SAVE_DEBOUNCE_MS, this.#firstDirtyAt + SAVE_MAX_WAIT_MS - now));
    this.#timer = setTimeout(() => void this.flush(), wait);
  }

  /** Saves now if anything changed; saves run one at a time, in order. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    while (this.#saving) await this.#saving;
    const current = this.current;
    if (!current || this.saveState !== 'dirty') return;
    const patch = { id: current.id, title: this.title, body: this.body, notes: this.notes, aiPassages: this.aiPassages };
    this.saveState = 'saving';
    this.#saving = (async () => {
      try {
        const saved = await window.studio.documents.update(patch);
        if (this.current?.id === saved.id) this.current = saved;
        this.documents = [
          { id: saved.id, title: saved.title, words: saved.words, updatedAt: saved.updatedAt, deletedAt: saved.deletedAt },
          ...this.documents.filter((doc) => doc.id !== saved.id),
        ];
        // edits made while saving keep the document dirty
        const unchanged = this.title === patch.title && this.body === patch.body && this.notes === patch.notes && this.aiPassages === patch.aiPassages;
        if (this.saveState === 'saving') this.saveState = unchanged ? 'saved' : 'dirty';
        if (!unchanged && this.saveState === 'dirty') this.#markDirty();
        this.saveError = null;
      } catch (error) {
        this.saveState = 'dirty';
        this.saveError = `Not saved: ${messageOf(error)}`;
        this.#timer = setTimeout(() => void this.flush(), 3000);
      }
    })();
    try {
      await this.#saving;
    } finally {
      this.#saving = null;
    }
  }

  async startAi(action: AiAction, prompt: string): Promise<boolean> {
    this.aiError = null;
    if (!this.model) {
      this.aiError = 'Pick a language model in the inspector first. Install one from the Models view.';
      return false;
    }
    const params: TextParams = {
      model: this.model,
      prompt: prompt.slice(-200_000),
      action,
      notes: this.notes.slice(0, 20_000),
      ...(this.current ? { documentId: this.current.id } : {}),
      maxNewTokens: this.maxNewTokens,
      temperature: this.temperature,
      topP: this.topP,
      topK: this.topK,
      repetitionPenalty: this.repetitionPenalty,
      seed: this.#nextSeed(),
    };
    this.action = action;
    this.tokens = 0;
    this.tokensPerSecond = null;
    this.firstTokenMs = null;
    this.starting = true;
    this.jobId = null;
    this.#early = [];
    try {
      const { jobId } = await window.studio.jobs.start({ kind: 'text', params });
      this.jobId = jobId;
      for (const event of this.#early) if (event.jobId === jobId) this.#onToken(event);
      return true;
    } catch (error) {
      this.aiError = messageOf(error);
      return false;
    } finally {
      this.#early = [];
      this.starting = false;
    }
  }

  async stopAi(): Promise<void> {
    if (this.jobId && this.streaming) await jobs.cancel(this.jobId);
  }

  /** Forget the job so late tokens are ignored (after accept or reject). */
  detachAi(): void {
    if (this.jobId && this.streaming) void jobs.cancel(this.jobId);
    this.jobId = null;
    this.action = null;
  }

  #onToken(event: TokenEvent): void {
    if (this.starting && this.jobId === null) {
      this.#early.push(event);
      return;
    }
    if (event.jobId !== this.jobId) return;
    this.tokens = event.tokens;
    if (event.tokensPerSecond !== null) this.tokensPerSecond = event.tokensPerSecond;
    if (event.firstTokenMs !== null) this.firstTokenMs = event.firstTokenMs;
    this.ontoken?.(event.text);
  }

  #nextSeed(): number {
    const seed = resolveSeed(this.seedMode, this.seed, this.lastSeed);
    this.lastSeed = seed;
    return seed;
  }

  resetSettings(): void {
    this.temperature = TEXT_DEFAULTS.temperature;
    this.topP = TEXT_DEFAULTS.topP;
    this.topK = TEXT_DEFAULTS.topK;
    this.repetitionPenalty = TEXT_DEFAULTS.repetitionPenalty;
    this.maxNewTokens = TEXT_DEFAULTS.maxNewTokens;
    this.seedMode = 'random';
  }

  /** The generation ids of a text job, once it has finished (empty if it produced none). */
  generationsOf(jobId: string): Promise<string[]> {
    const job = jobs.get(jobId);
    if (job && isFinished(job.state)) return Promise.resolve(job.generationIds);
    return new Promise((resolve) => {
      this.#waiting.set(jobId, [...(this.#waiting.get(jobId) ?? []), resolve]);
    });
  }

  #settle(job: Job): void {
    const waiting = this.#waiting.get(job.id);
    if (!waiting) return;
    this.#waiting.delete(job.id);
    for (const resolve of waiting) resolve(job.generationIds);
  }

  /** Tags the job's generations 'accepted' or 'rejected' in the library, so outcomes can be studied later. */
  async recordOutcome(jobId: string, outcome: Outcome): Promise<string[]> {
    const ids = await this.generationsOf(jobId);
    const other: Outcome = outcome === 'accepted' ? 'rejected' : 'accepted';
    await Promise.all(
      ids.map((id) => window.studio.library.tag({ id, add: [outcome], remove: [other] }).catch((error: unknown) => toasts.error(`Could not record the outcome: ${messageOf(error)}`))),
    );
    return ids;
  }

  async loadVersions(): Promise<void> {
    const id = this.current?.id;
    if (!id) return;
    try {
      const { items } = await window.studio.documents.versions({ id });
      if (this.current?.id === id) this.versions = [...items].sort((a, b) => b.createdAt - a.createdAt);
      this.versionsError = null;
    } catch (error) {
      this.versionsError = messageOf(error);
    }
  }

  /** Saves pending edits, then keeps the stored text as a version. */
  async snapshot(reason: string): Promise<boolean> {
    const id = this.current?.id;
    if (!id) return false;
    try {
      await this.flush();
      await window.studio.documents.snapshot({ id, reason });
      await this.loadVersions();
      return true;
    } catch (error) {
      toasts.error(`Could not save a version: ${messageOf(error)}`);
      return false;
    }
  }

  async restoreVersion(versionId: string): Promise<boolean> {
    const id = this.current?.id;
    if (!id) return false;
    try {
      await this.flush();
      const document = await window.studio.documents.restoreVersion({ id, versionId });
      this.#show(document);
      this.reloads++;
      this.documents = [document, ...this.documents.filter((doc) => doc.id !== id)];
      toasts.show('Version restored — the text before it was kept as a version', 'success');
      return true;
    } catch (error) {
      toasts.error(`Could not restore: ${messageOf(error)}`);
      return false;
    }
  }

  /** A new document from an imported file. */
  async importDocument(title: string, body: string, notes: string, aiPassages: AiPassage[] = []): Promise<StudioDocument | null> {
    await this.flush();
    try {
      let document = await window.studio.documents.create({ title: title.slice(0, 300) || 'Untitled', body });
      if (notes || aiPassages.length > 0) document = await window.studio.documents.update({ id: document.id, notes: notes.slice(0, 100_000), aiPassages });
      this.documents = [document, ...this.documents];
      this.#show(document);
      return document;
    } catch (error) {
      toasts.error(`Could not import: ${messageOf(error)}`);
      return null;
    }
  }

  /** Remix of a text generation: reuse its model. */
  applyRemix(generation: Generation): void {
    this.model = str(generation.params, 'model') ?? generation.model;
  }
}

export const writer = new Writer();
