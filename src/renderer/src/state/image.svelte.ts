import type { EventPayload, Generation } from '../../../shared/contract';
import type { ImageParams, Scheduler } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { randomSeed } from '../lib/format';
import { isFinished, jobs } from './jobs.svelte';
import { num, paramsFromPng, str, type PngParams } from './params-read';

/** Same list as SCHEDULERS in shared/params; kept here as a type-checked copy so zod stays out of the renderer bundle. */
export const SCHEDULERS: readonly Scheduler[] = ['euler', 'euler-a', 'ddim', 'dpmpp-2m-karras', 'lcm'];

export type SeedMode = 'random' | 'fixed' | 'reuse';
export const SIZE_PRESETS = [
  { label: '512²', width: 512, height: 512 },
  { label: '768²', width: 768, height: 768 },
  { label: '512×768', width: 512, height: 768 },
  { label: '768×512', width: 768, height: 512 },
  { label: '1024²', width: 1024, height: 1024 },
] as const;

function isScheduler(value: string | undefined): value is Scheduler {
  return value !== undefined && (SCHEDULERS as readonly string[]).includes(value);
}

/** The Image tab: its parameters survive tab switches, its job streams previews and results. */
class ImageStudio {
  model = $state('');
  prompt = $state('');
  negativePrompt = $state('');
  width = $state(512);
  height = $state(512);
  steps = $state(20);
  guidance = $state(7);
  scheduler = $state<Scheduler>('euler');
  seedMode = $state<SeedMode>('random');
  seed = $state(0);
  lastSeed = $state<number | null>(null);
  batch = $state(1);
  initAssetId = $state<string | null>(null);
  strength = $state(0.75);
  parentId = $state<string | null>(null);
  /** What the last dropped PNG filled in (or why it could not), shown under the prompt. */
  importNote = $state<{ tone: 'info' | 'error'; text: string } | null>(null);

  jobId = $state<string | null>(null);
  starting = $state(false);
  error = $state<string | null>(null);
  previews = $state.raw<Record<string, EventPayload<'jobs.preview'>>>({});
  results = $state.raw<Generation[]>([]);

  job = $derived(this.jobId ? jobs.items.find((job) => job.id === this.jobId) : undefined);
  progress = $derived(this.jobId ? jobs.progress[this.jobId] : undefined);
  preview = $derived(this.jobId ? this.previews[this.jobId] : undefined);
  busy = $derived(this.starting || (this.job !== undefined && !isFinished(this.job.state)));
  sizeValid = $derived(this.width % 8 === 0 && this.height % 8 === 0 && this.width >= 64 && this.height >= 64 && this.width <= 2048 && this.height <= 2048);

  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    window.studio.on('jobs.preview', (preview) => {
      this.previews = { [preview.jobId]: preview };
    });
    jobs.onFinished((job) => {
      if (job.kind !== 'image' || job.state !== 'done') return;
      void this.#addResults(job.generationIds);
    });
    void this.#loadRecent();
  }

  async #loadRecent(): Promise<void> {
    try {
      const page = await window.studio.library.list({ kind: 'image', limit: 12 });
      this.results = page.items;
    } catch {
      // the strip just starts empty; the library view reports errors
    }
  }

  async #addResults(ids: string[]): Promise<void> {
    const generations = await Promise.all(ids.map((id) => window.studio.library.get({ id }).catch(() => null)));
    const fresh = generations.filter((g): g is Generation => g !== null);
    const freshIds = new Set(fresh.map((g) => g.id));
    this.results = [...fresh, ...this.results.filter((g) => !freshIds.has(g.id))].slice(0, 48);
    const seeded = fresh.find((g) => g.seed !== null);
    if (seeded?.seed != null) this.lastSeed = seeded.seed;
  }

  setSize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }

  resolveSeed(): number {
    if (this.seedMode === 'fixed') return this.seed;
    if (this.seedMode === 'reuse' && this.lastSeed !== null) return this.lastSeed;
    return randomSeed();
  }

  async generate(): Promise<void> {
    if (this.busy) return;
    this.error = null;
    if (!this.model) {
      this.error = 'Pick an image model first. Install one from the Models view.';
      return;
    }
    if (!this.sizeValid) {
      this.error = 'Width and height must be multiples of 8 between 64 and 2048.';
      return;
    }
    const seed = this.resolveSeed();
    const params: ImageParams = {
      model: this.model,
      prompt: this.prompt,
      negativePrompt: this.negativePrompt,
      width: this.width,
      height: this.height,
      steps: this.steps,
      guidance: this.guidance,
      scheduler: this.scheduler,
      seed,
      batch: this.batch,
      strength: this.strength,
      ...(this.initAssetId ? { initAssetId: this.initAssetId } : {}),
    };
    this.starting = true;
    try {
      const { jobId } = await window.studio.jobs.start({ kind: 'image', params, ...(this.parentId ? { parentId: this.parentId } : {}) });
      this.jobId = jobId;
      this.lastSeed = seed;
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.starting = false;
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId) await jobs.cancel(this.jobId);
  }

  useAsInit(generation: Generation): void {
    const image = generation.assets.find((asset) => asset.mime.startsWith('image/'));
    if (!image) return;
    this.initAssetId = image.id;
    this.parentId = generation.id;
  }

  clearInit(): void {
    this.initAssetId = null;
  }

  /** Reads a dropped or picked PNG's parameters (AUTOMATIC1111, ComfyUI, Atelier) into the form. */
  async loadFromFile(file: File): Promise<void> {
    try {
      const params = await paramsFromPng(new Uint8Array(await file.arrayBuffer()));
      if (!params) {
        this.importNote = { tone: 'error', text: `${file.name} carries no parameters Atelier can read (AUTOMATIC1111, ComfyUI or Atelier PNGs do).` };
        return;
      }
      const filled = this.applyPngParams(params);
      const tool = { a1111: 'AUTOMATIC1111', comfyui: 'ComfyUI', invokeai: 'InvokeAI', atelier: 'Atelier' }[params.source];
      this.importNote = { tone: 'info', text: `Loaded ${filled.join(', ') || 'nothing'} from ${file.name} (${tool}).${params.sampler && !params.scheduler ? ` Sampler “${params.sampler}” has no match here; kept ${this.scheduler}.` : ''}` };
    } catch (error) {
      this.importNote = { tone: 'error', text: `Could not read ${file.name}: ${messageOf(error)}` };
    }
  }

  /** Fills the form from imported parameters; returns the names of the fields it set. */
  applyPngParams(p: PngParams): string[] {
    const filled: string[] = [];
    if (p.prompt !== undefined) {
      this.prompt = p.prompt;
      filled.push('prompt');
    }
    if (p.negativePrompt !== undefined) {
      this.negativePrompt = p.negativePrompt;
      filled.push('negative prompt');
    }
    if (p.steps !== undefined) {
      this.steps = Math.max(1, Math.min(150, Math.round(p.steps)));
      filled.push('steps');
    }
    if (p.guidance !== undefined) {
      this.guidance = Math.max(0, Math.min(30, p.guidance));
      filled.push('guidance');
    }
    if (p.seed !== undefined) {
      this.seed = p.seed;
      this.seedMode = 'fixed';
      filled.push('seed');
    }
    if (p.width !== undefined && p.height !== undefined) {
      this.width = p.width;
      this.height = p.height;
      filled.push('size');
    }
    if (isScheduler(p.scheduler)) {
      this.scheduler = p.scheduler;
      filled.push('scheduler');
    }
    if (p.strength !== undefined && this.initAssetId) this.strength = p.strength;
    this.parentId = null;
    return filled;
  }

  /** Remix: load a stored generation's exact parameters. */
  apply(generation: Generation): void {
    const p = generation.params;
    this.model = str(p, 'model') ?? generation.model;
    this.prompt = str(p, 'prompt') ?? generation.prompt;
    this.negativePrompt = str(p, 'negativePrompt') ?? generation.negativePrompt;
    this.width = num(p, 'width') ?? this.width;
    this.height = num(p, 'height') ?? this.height;
    this.steps = num(p, 'steps') ?? this.steps;
    this.guidance = num(p, 'guidance') ?? this.guidance;
    const scheduler = str(p, 'scheduler');
    if (isScheduler(scheduler)) this.scheduler = scheduler;
    this.batch = num(p, 'batch') ?? 1;
    this.strength = num(p, 'strength') ?? this.strength;
    this.initAssetId = str(p, 'initAssetId') ?? null;
    const seed = num(p, 'seed') ?? generation.seed;
    if (seed !== undefined && seed !== null) {
      this.seed = seed;
      this.seedMode = 'fixed';
    }
    this.parentId = generation.id;
  }
}

export const imageStudio = new ImageStudio();
