import type { Generation, MeaningHit, MeaningStatus } from '../../shared/contract';
import type { EmbedInput, EmbedResult } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import type { GenerationKind } from '../../shared/params';
import type { Library, UnindexedItem } from '../library';
import { recordBatchDiversity } from './batch-diversity';
import { clipScore, meanPairwiseDistance } from './scores';

export { clipScore, meanPairwiseDistance } from './scores';

/** Which generations a model indexes: pictures (a CLIP model), texts (a sentence embedder, or CLIP) or music (a CLAP model). */
export type MeaningKind = 'image' | 'text' | 'music';
export const MEANING_KINDS: readonly MeaningKind[] = ['image', 'text', 'music'];

export interface MeaningModel {
  /** Installed model id, or the absolute folder (command line); vectors are tagged with it. */
  model: string;
  dir: string;
}

const SETTING: Record<MeaningKind, string> = { image: 'meaning.imageModel', text: 'meaning.textModel', music: 'meaning.musicModel' };
const PAUSED_SETTING = 'meaning.paused';

/** What a kind needs from a model's family, and what to say when the model is of another. */
const NEEDS: Partial<Record<MeaningKind, { family: EmbedResult['family']; refusal: string }>> = {
  image: { family: 'clip', refusal: 'searching pictures by meaning needs a CLIP model (for example Xenova/clip-vit-base-patch32)' },
  music: { family: 'clap', refusal: 'searching music by meaning needs a CLAP model (for example Xenova/clap-htsat-unfused)' },
};

function refuseFamily(model: string, kind: MeaningKind, family: EmbedResult['family']): void {
  const need = NEEDS[kind];
  if (!need || need.family === family) return;
  const does = family === 'clip' ? 'embeds pictures and text' : family === 'clap' ? 'embeds music and text' : 'embeds text only';
  throw new StudioError('MODEL_INVALID', `${model} ${does}; ${need.refusal}.`);
}

export interface MeaningIndexDeps {
  library: Library;
  embed(modelDir: string, inputs: EmbedInput[]): Promise<EmbedResult>;
  resolveModel(model: string): string;
  /** Resolves when no generation job is running: indexing has the lowest priority. */
  generationsIdle(): Promise<void>;
  onStatus?(status: MeaningStatus): void;
  /** Items per engine call (and per transaction). */
  batchSize?: number;
}

/** Failures of the model or the engine itself, not of one item: they stop an index run. */
function isFatal(error: unknown): boolean {
  const code = toErrorShape(error).code;
  return code === 'MODEL_INVALID' || code === 'ENGINE_CRASHED' || code === 'CANCELLED' || code === 'OUT_OF_MEMORY';
}

/** Reciprocal-rank fusion constant: the usual 60, so neither list's top dominates by itself. */
const RRF_K = 60;

/**
 * Search by meaning and the background index behind it. Vectors live in the library (tagged with
 * the model); which models index what is a library setting per kind. The index is never a job row:
 * what remains to do is exactly the live items without a vector for the model, so a crash or a quit
 * loses at most the batch in flight, and starting again resumes (each batch commits in one
 * transaction; the table's key keeps an item from being indexed twice). Batches wait while a
 * generation runs, so indexing never delays one by more than a batch.
 */
export class MeaningIndex {
  private loop: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private paused = false;
  private lastError: MeaningStatus['error'] = null;
  /** Items this run could not index, so one bad picture does not hold back the rest (retried next run). */
  private readonly skipped = new Map<string, string>();

  constructor(private readonly deps: MeaningIndexDeps) {
    // A pause is the person's choice: it outlasts a quit or a crash, like the library it is kept in.
    this.paused = deps.library.getSetting(PAUSED_SETTING) === true;
  }

  modelFor(kind: MeaningKind): MeaningModel | null {
    const value = this.deps.library.getSetting(SETTING[kind]);
    if (!value || typeof value !== 'object') return null;
    const { model, dir } = value as Record<string, unknown>;
    return typeof model === 'string' && typeof dir === 'string' ? { model, dir } : null;
  }

  /** Chooses (or clears) the model for a kind; the other models' vectors for that kind go, and indexing starts. */
  setModel(kind: MeaningKind, model: string | null): MeaningStatus {
    if (model === null) {
      this.deps.library.setSetting(SETTING[kind], null);
      return this.status();
    }
    const dir = this.deps.resolveModel(model);
    const before = this.modelFor(kind);
    this.deps.library.setSetting(SETTING[kind], { model, dir });
    if (before?.model !== model) this.deps.library.deleteOtherEmbeddings(kind, model);
    this.lastError = null;
    this.start();
    return this.status();
  }

  /**
   * Chooses a model for the kind it can index, asking the engine what it is: a CLIP model indexes
   * pictures, a CLAP model music, a sentence embedder texts (`kind` overrides, e.g. CLIP for texts).
   */
  async chooseModel(model: string, kind?: MeaningKind): Promise<MeaningStatus> {
    const dir = this.deps.resolveModel(model);
    const probe = await this.deps.embed(dir, [{ type: 'text', text: 'a picture' }]);
    const target = kind ?? (probe.family === 'clip' ? 'image' : probe.family === 'clap' ? 'music' : 'text');
    refuseFamily(model, target, probe.family);
    return this.setModel(target, model);
  }

  status(): MeaningStatus {
    const kinds = MEANING_KINDS.map((kind) => {
      const model = this.modelFor(kind);
      const counts = model ? this.deps.library.countIndexed(model.model, kind) : { indexed: 0, total: 0 };
      return { kind, model: model?.model ?? null, ...counts };
    });
    const skipped = [...this.skipped].slice(0, 100).map(([id, reason]) => ({ id, reason }));
    return { kinds, running: this.loop !== null, paused: this.paused, skipped, error: this.lastError };
  }

  setPaused(paused: boolean): MeaningStatus {
    this.paused = paused;
    this.deps.library.setSetting(PAUSED_SETTING, paused);
    if (!paused) this.start();
    return this.status();
  }

  /** Starts (or continues) indexing in the background; new generations call this as they commit. */
  start(): void {
    if (this.stopped || this.paused) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.lastError = null;
    this.loop = this.run()
      .catch((error: unknown) => {
        this.lastError = toErrorShape(error);
      })
      .finally(() => {
        this.loop = null;
        this.emit();
        if (this.again && !this.lastError) {
          this.again = false;
          this.start();
        }
      });
  }

  /** Resolves when the index has nothing left to do (or stopped on an error, which status() tells). */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** For closing: no new batch starts; the batch in flight finishes or is lost with the engine. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.idle();
  }

  private emit(): void {
    this.deps.onStatus?.(this.status());
  }

  private async run(): Promise<void> {
    const batch = this.deps.batchSize ?? 16;
    this.skipped.clear();
    // Items scored in this run are not tried again, whatever the score came out as.
    const scored = new Set<string>();
    for (;;) {
      this.again = false;
      let didWork = false;
      for (const kind of MEANING_KINDS) {
        const model = this.modelFor(kind);
        if (!model) continue;
        for (;;) {
          if (this.stopped || this.paused) return;
          await this.deps.generationsIdle();
          if (this.stopped || this.paused) return;
          const items = this.deps.library.listUnindexed(model.model, kind, batch, { exclude: [...this.skipped.keys()] });
          if (items.length === 0) break;
          await this.indexItems(model, kind, items);
          didWork = true;
          this.emit();
        }
        if (kind !== 'text' && (await this.scoreIndexed(model, kind, batch, scored))) didWork = true;
      }
      if (!didWork && !this.again) return;
    }
  }

  /**
   * Prompt adherence for items that have a vector but no score by this model (music indexed before
   * music was scored, or scored by a model chosen before): only their prompts are embedded, beside
   * the stored vectors. Whether there was any.
   */
  private async scoreIndexed(model: MeaningModel, kind: 'image' | 'music', batch: number, scored: Set<string>): Promise<boolean> {
    let any = false;
    for (;;) {
      if (this.stopped || this.paused) return any;
      await this.deps.generationsIdle();
      if (this.stopped || this.paused) return any;
      const items = this.deps.library.listUnscored(model.model, kind, batch, [...scored]);
      if (items.length === 0) return any;
      for (const item of items) scored.add(item.id);
      let result: EmbedResult;
      try {
        result = await this.deps.embed(model.dir, items.map((item) => ({ type: 'text', text: item.prompt })));
      } catch (error) {
        if (isFatal(error)) throw error;
        // A score is a nicety: these items keep their vectors and go without one until the next run.
        continue;
      }
      this.deps.library.insertEmbeddings(
        model.model,
        items.map((item, i) => ({ generationId: item.id, vector: item.vector, adherence: clipScore(item.vector, result.vectors[i]!) })),
      );
      any = true;
    }
  }

  /**
   * A batch the engine refuses is tried item by item; an item that still fails is skipped for this
   * run. Failures of the model or the engine itself stop the run instead.
   */
  private async indexItems(model: MeaningModel, kind: MeaningKind, items: UnindexedItem[]): Promise<void> {
    try {
      await this.indexBatch(model, kind, items);
    } catch (error) {
      // The model or the engine failed, not one item: the run stops and says why.
      if (isFatal(error)) throw error;
      if (items.length > 1) {
        for (const item of items) await this.indexItems(model, kind, [item]);
        return;
      }
      this.skipped.set(items[0]!.id, toErrorShape(error).message);
    }
  }

  private async indexBatch(model: MeaningModel, kind: MeaningKind, items: UnindexedItem[]): Promise<void> {
    const library = this.deps.library;
    const inputs: EmbedInput[] = [];
    const rows: { generationId: string; vector: number; prompt: number | null }[] = [];
    for (const item of items) {
      if (kind === 'text') {
        inputs.push({ type: 'text', text: item.outputText?.trim() ? item.outputText : item.prompt });
        rows.push({ generationId: item.id, vector: inputs.length - 1, prompt: null });
        continue;
      }
      const [assetId, type, what] = kind === 'image' ? [item.imageAssetId, 'image' as const, 'picture'] : [item.audioAssetId, 'audio' as const, 'audio'];
      const asset = assetId ? library.resolveAsset(assetId) : null;
      if (!asset) {
        this.skipped.set(item.id, `its ${what} is missing from the library's files`);
        continue;
      }
      inputs.push({ type, path: asset.path });
      const vector = inputs.length - 1;
      let prompt: number | null = null;
      // CLIP embeds pictures and words in one space, CLAP music and words: the prompt's vector
      // beside the item's gives how closely the item follows its prompt.
      if (item.prompt.trim()) {
        inputs.push({ type: 'text', text: item.prompt });
        prompt = inputs.length - 1;
      }
      rows.push({ generationId: item.id, vector, prompt });
    }
    if (rows.length === 0) return;
    const result = await this.deps.embed(model.dir, inputs);
    refuseFamily(model.model, kind, result.family);
    library.insertEmbeddings(
      model.model,
      rows.map((row) => {
        const vector = Float32Array.from(result.vectors[row.vector]!);
        return row.prompt === null ? { generationId: row.generationId, vector } : { generationId: row.generationId, vector, adherence: clipScore(vector, result.vectors[row.prompt]!) };
      }),
    );
    recordBatchDiversity(library, model.model, rows.map((row) => row.generationId));
  }

  private async embedQuery(kind: MeaningKind, text: string): Promise<{ model: MeaningModel; vector: Float32Array } | null> {
    const model = this.modelFor(kind);
    if (!model) return null;
    const result = await this.deps.embed(model.dir, [{ type: 'text', text }]);
    return { model, vector: Float32Array.from(result.vectors[0]!) };
  }

  private requireAnyModel(kinds: MeaningKind[]): void {
    if (kinds.some((kind) => this.modelFor(kind))) return;
    throw new StudioError(
      'MODEL_NOT_INSTALLED',
      'No model to search by meaning is chosen. Choose one with `atelier library index --model ID` (a CLIP model for pictures, a sentence embedder for texts, a CLAP model for music); search by words works without one.',
    );
  }

  /**
   * Search by meaning, merged with search by words unless `words` is false: each list ranks its
   * items, and reciprocal-rank fusion orders the union (the two scores are not on one scale).
   */
  async search(input: { query: string; kind?: GenerationKind; limit: number; words: boolean }): Promise<MeaningHit[]> {
    const kinds = MEANING_KINDS.filter((k) => !input.kind || input.kind === k);
    this.requireAnyModel(kinds);
    const similarity = new Map<string, number>();
    for (const kind of kinds) {
      const query = await this.embedQuery(kind, input.query);
      if (!query) continue;
      for (const hit of this.deps.library.searchByVector(query.model.model, query.vector, { k: input.limit })) similarity.set(hit.id, hit.similarity);
    }
    const meaningRank = [...similarity.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
    const wordHits = input.words ? this.deps.library.searchGenerations({ query: input.query, kind: input.kind, limit: input.limit }).items : [];
    const score = new Map<string, number>();
    meaningRank.forEach((id, rank) => score.set(id, (score.get(id) ?? 0) + 1 / (RRF_K + rank)));
    wordHits.forEach((hit, rank) => score.set(hit.generation.id, (score.get(hit.generation.id) ?? 0) + 1 / (RRF_K + rank)));
    const snippets = new Map(wordHits.map((h) => [h.generation.id, h.snippet]));
    const order = [...score.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, input.limit).map(([id]) => id);
    const generations = new Map(order.flatMap((id) => this.hydrate(id)).map((g) => [g.id, g]));
    return order.flatMap((id) => {
      const generation = generations.get(id);
      if (!generation) return [];
      return [{ generation, snippet: snippets.get(id) ?? '', similarity: similarity.get(id) ?? null, words: snippets.has(id) }];
    });
  }

  /** Items nearest to one item, of its kind (pictures → pictures, texts → texts, music → music); indexes it first if needed. */
  async similar(id: string, limit: number): Promise<MeaningHit[]> {
    const generation = this.deps.library.getGeneration(id);
    const kind: MeaningKind = generation.kind;
    const model = this.modelFor(kind);
    if (!model) this.requireAnyModel([kind]);
    if (!model) return [];
    let vector = this.deps.library.findEmbedding(model.model, id);
    if (!vector) {
      const items = this.deps.library.listUnindexed(model.model, kind, 1, { onlyId: id });
      if (items.length === 0) throw new StudioError('NOT_FOUND', 'This item has nothing to compare by meaning (no picture, text or audio).');
      await this.indexBatch(model, kind, items);
      vector = this.deps.library.findEmbedding(model.model, id);
      if (!vector) throw new StudioError('NOT_FOUND', this.skipped.get(id) ? `This item cannot be compared: ${this.skipped.get(id)}.` : 'This item could not be indexed.');
    }
    const hits = this.deps.library.searchByVector(model.model, vector, { k: limit, exclude: id });
    const byId = new Map(hits.flatMap((h) => this.hydrate(h.id)).map((g) => [g.id, g]));
    return hits.flatMap((hit) => {
      const g = byId.get(hit.id);
      return g ? [{ generation: g, snippet: '', similarity: hit.similarity, words: false }] : [];
    });
  }

  /** Diversity of a batch: mean pairwise cosine distance of the items' vectors (0 = all alike). */
  diversity(ids: string[]): { diversity: number | null; count: number; model: string | null } {
    const generations = ids.flatMap((id) => this.hydrate(id));
    const kind = generations[0]?.kind;
    const model = kind ? this.modelFor(kind) : null;
    if (!model) return { diversity: null, count: 0, model: null };
    const found = this.deps.library.listEmbeddings(model.model, generations.filter((g) => g.kind === kind).map((g) => g.id));
    const list = [...found.values()];
    return { diversity: meanPairwiseDistance(list), count: list.length, model: model.model };
  }

  private hydrate(id: string): Generation[] {
    const g = this.deps.library.findGeneration(id);
    return g ? [g] : [];
  }
}
