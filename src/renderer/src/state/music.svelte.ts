import type { Generation } from '../../../shared/contract';
import type { MusicParams } from '../../../shared/params';
import { randomSeed } from '../lib/format';
import { GenerationJob, keepSeedOf, resolveSeed, type SeedMode } from './generation-job.svelte';
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

  /** The running job and the strip of finished pieces. */
  run = new GenerationJob('music');

  init(): void {
    this.run.init();
  }

  addChip(text: string): void {
    const trimmed = this.prompt.trim();
    this.prompt = trimmed ? `${trimmed.replace(/,$/, '')}, ${text}` : text;
  }

  async generate(): Promise<void> {
    if (!this.run.canStartWith(this.model)) return;
    const seed = resolveSeed(this.seedMode, this.seed, this.lastSeed);
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
    if (await this.run.start({ kind: 'music', params, ...(this.parentId ? { parentId: this.parentId } : {}) })) this.lastSeed = seed;
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
    if (!this.run.canStart()) return;
    await this.run.start({ kind: 'music', params: { ...this.#paramsOf(generation), seed: randomSeed() }, parentId: generation.id });
  }

  /**
   * Remix: continue the piece by `this.seconds`. The engine generates a new segment from the
   * prompt and crossfades it onto the end; the model does not condition on the original audio.
   */
  async extend(generation: Generation): Promise<void> {
    if (!this.run.canStart()) return;
    const audio = generation.assets.find((asset) => asset.role === 'audio' || asset.mime.startsWith('audio/'));
    if (!audio) {
      this.run.error = 'This result has no audio to extend.';
      return;
    }
    await this.run.start({ kind: 'music', params: { ...this.#paramsOf(generation), seconds: this.seconds, seed: randomSeed(), extendAssetId: audio.id }, parentId: generation.id });
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
    keepSeedOf(generation, this);
    this.parentId = generation.id;
  }
}

export const musicStudio = new MusicStudio();
