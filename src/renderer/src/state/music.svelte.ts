import type { Generation } from '../../../shared/contract';
import type { MusicParams } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { randomSeed } from '../lib/format';
import type { SeedMode } from './image.svelte';
import { isFinished, jobs } from './jobs.svelte';
import { num, str } from './params-read';

export const PROMPT_CHIPS = {
  genre: ['lo-fi hip hop', 'ambient', 'jazz', 'techno', 'orchestral', 'folk', 'synthwave'],
  mood: ['calm', 'uplifting', 'melancholic', 'tense', 'dreamy', 'energetic'],
  instruments: ['piano', 'acoustic guitar', 'strings', 'analog synth', 'drums', 'bass'],
  tempo: ['60 bpm', '90 bpm', '120 bpm', '140 bpm'],
} as const;

/** The Music tab: parameters, the running job and finished pieces. */
class MusicStudio {
  model = $state('');
  prompt = $state('');
  seconds = $state(8);
  guidance = $state(3);
  temperature = $state(1);
  topK = $state(250);
  seedMode = $state<SeedMode>('random');
  seed = $state(0);
  lastSeed = $state<number | null>(null);
  variations = $state(1);
  parentId = $state<string | null>(null);

  jobId = $state<string | null>(null);
  starting = $state(false);
  error = $state<string | null>(null);
  results = $state.raw<Generation[]>([]);

  job = $derived(this.jobId ? jobs.items.find((job) => job.id === this.jobId) : undefined);
  progress = $derived(this.jobId ? jobs.progress[this.jobId] : undefined);
  busy = $derived(this.starting || (this.job !== undefined && !isFinished(this.job.state)));

  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    jobs.onFinished((job) => {
      if (job.kind !== 'music' || job.state !== 'done') return;
      void this.#addResults(job.generationIds);
    });
    void this.#loadRecent();
  }

  async #loadRecent(): Promise<void> {
    try {
      const page = await window.studio.library.list({ kind: 'music', limit: 12 });
      this.results = page.items;
    } catch {
      // starts empty; the library view reports errors
    }
  }

  async #addResults(ids: string[]): Promise<void> {
    const generations = await Promise.all(ids.map((id) => window.studio.library.get({ id }).catch(() => null)));
    const fresh = generations.filter((g): g is Generation => g !== null);
    const freshIds = new Set(fresh.map((g) => g.id));
    this.results = [...fresh, ...this.results.filter((g) => !freshIds.has(g.id))].slice(0, 48);
  }

  addChip(text: string): void {
    const trimmed = this.prompt.trim();
    this.prompt = trimmed ? `${trimmed.replace(/,$/, '')}, ${text}` : text;
  }

  async generate(): Promise<void> {
    if (this.busy) return;
    this.error = null;
    if (!this.model) {
      this.error = 'Pick a music model first. Install one from the Models view.';
      return;
    }
    const seed = this.seedMode === 'fixed' ? this.seed : this.seedMode === 'reuse' && this.lastSeed !== null ? this.lastSeed : randomSeed();
    const params: MusicParams = {
      model: this.model,
      prompt: this.prompt,
      seconds: this.seconds,
      guidance: this.guidance,
      temperature: this.temperature,
      topK: this.topK,
      seed,
      variations: this.variations,
      format: 'pcm16',
    };
    if (await this.#start(params, this.parentId)) this.lastSeed = seed;
  }

  async #start(params: MusicParams, parentId: string | null): Promise<boolean> {
    this.starting = true;
    try {
      const { jobId } = await window.studio.jobs.start({ kind: 'music', params, ...(parentId ? { parentId } : {}) });
      this.jobId = jobId;
      return true;
    } catch (error) {
      this.error = messageOf(error);
      return false;
    } finally {
      this.starting = false;
    }
  }

  /** The parameters a finished piece was made with (falling back to the inspector's). */
  #paramsOf(generation: Generation): MusicParams {
    const p = generation.params;
    return {
      model: str(p, 'model') ?? generation.model,
      prompt: str(p, 'prompt') ?? generation.prompt,
      seconds: num(p, 'seconds') ?? this.seconds,
      guidance: num(p, 'guidance') ?? this.guidance,
      temperature: num(p, 'temperature') ?? this.temperature,
      topK: num(p, 'topK') ?? this.topK,
      variations: 1,
      format: str(p, 'format') === 'float32' ? 'float32' : 'pcm16',
    };
  }

  /** Remix: the same piece's parameters with a new random seed, as a child of it. */
  async newSeed(generation: Generation): Promise<void> {
    if (this.busy) return;
    this.error = null;
    await this.#start({ ...this.#paramsOf(generation), seed: randomSeed() }, generation.id);
  }

  /**
   * Remix: continue the piece by `this.seconds`. The engine generates a new segment from the
   * prompt and crossfades it onto the end; the model does not condition on the original audio.
   */
  async extend(generation: Generation): Promise<void> {
    if (this.busy) return;
    this.error = null;
    const audio = generation.assets.find((asset) => asset.role === 'audio' || asset.mime.startsWith('audio/'));
    if (!audio) {
      this.error = 'This result has no audio to extend.';
      return;
    }
    await this.#start({ ...this.#paramsOf(generation), seconds: this.seconds, seed: randomSeed(), extendAssetId: audio.id }, generation.id);
  }

  async cancel(): Promise<void> {
    if (this.jobId) await jobs.cancel(this.jobId);
  }

  apply(generation: Generation): void {
    const p = generation.params;
    this.model = str(p, 'model') ?? generation.model;
    this.prompt = str(p, 'prompt') ?? generation.prompt;
    this.seconds = num(p, 'seconds') ?? this.seconds;
    this.guidance = num(p, 'guidance') ?? this.guidance;
    this.temperature = num(p, 'temperature') ?? this.temperature;
    this.topK = num(p, 'topK') ?? this.topK;
    this.variations = num(p, 'variations') ?? 1;
    const seed = num(p, 'seed') ?? generation.seed;
    if (seed !== undefined && seed !== null) {
      this.seed = seed;
      this.seedMode = 'fixed';
    }
    this.parentId = generation.id;
  }
}

export const musicStudio = new MusicStudio();
