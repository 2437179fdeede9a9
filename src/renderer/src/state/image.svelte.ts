import type { EventPayload, Generation } from '../../../shared/contract';
import { MAX_IMAGE_SIDE, outpaintedSize } from '../../../shared/image-canvas';
import type { ImageParams, Scheduler } from '../../../shared/params';
import { messageOf } from '../lib/errors';
import { GenerationJob, keepSeedOf, resolveSeed, type SeedMode } from './generation-job.svelte';
import { models } from './models.svelte';
import { upscaler } from './upscale.svelte';
import { num, paramsFromPng, str, type PngParams } from './params-read';

/** Same list as SCHEDULERS in shared/params; kept here as a type-checked copy so zod stays out of the renderer bundle. */
export const SCHEDULERS: readonly Scheduler[] = ['euler', 'euler-a', 'ddim', 'dpmpp-2m-karras', 'lcm'];

/** The names artists know them by (AUTOMATIC1111 / ComfyUI spelling); the value stays the id. */
export const SCHEDULER_LABELS: Record<Scheduler, string> = {
  euler: 'Euler',
  'euler-a': 'Euler a',
  ddim: 'DDIM',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM (for LCM models)',
};

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
  /** Inpainting: the stored mask (library asset) and a freshly painted one not stored yet (PNG data URL). */
  maskAssetId = $state<string | null>(null);
  maskPng = $state<string | null>(null);
  maskBlur = $state(4);
  maskedOnly = $state(false);
  outpaint = $state({ left: 0, top: 0, right: 0, bottom: 0 });
  /** The mask editor is open over the init image; the key remounts it when its picture or mask is replaced. */
  maskEditing = $state(false);
  maskEditorKey = $state(0);
  outpaintValid = $derived(Object.values(this.outpaint).every((v) => Number.isInteger(v) && v >= 0 && v % 8 === 0 && v <= 1024));
  /** The canvas an outpaint makes of the init picture at the chosen size; null while nothing is outpainted. */
  outpaintSize = $derived(this.initAssetId !== null && Object.values(this.outpaint).some((v) => v > 0) ? outpaintedSize(this.width, this.height, this.outpaint) : null);
  outpaintFits = $derived(this.outpaintSize === null || (this.outpaintSize.width <= MAX_IMAGE_SIDE && this.outpaintSize.height <= MAX_IMAGE_SIDE));
  parentId = $state<string | null>(null);
  /** What the last dropped PNG filled in (or why it could not), shown under the prompt. */
  importNote = $state<{ tone: 'info' | 'error'; text: string } | null>(null);
  /** The settings applied because the picked model is made for them (SD-Turbo: 1 step, no guidance). */
  modelNote = $state<string | null>(null);

  /** The running job and the strip of results; a finished job's seed becomes the one to reuse. */
  run = new GenerationJob('image', (fresh) => {
    const seeded = fresh.find((g) => g.seed !== null);
    if (seeded?.seed != null) this.lastSeed = seeded.seed;
    // "After generating: upscale": each new picture (never an upscale itself) is queued for it.
    const factor = this.upscaleAfter;
    if (factor !== 0) for (const g of fresh) if (!upscaler.isUpscale(g)) void upscaler.upscale(g, factor);
  });
  /** 0 = keep new pictures as they are; 2 or 4 = queue an upscale of each as it arrives. */
  upscaleAfter = $state<0 | 2 | 4>(0);
  previews = $state.raw<Record<string, EventPayload<'jobs.preview'>>>({});

  preview = $derived(this.run.jobId ? this.previews[this.run.jobId] : undefined);
  sizeValid = $derived(this.width % 8 === 0 && this.height % 8 === 0 && this.width >= 64 && this.height >= 64 && this.width <= MAX_IMAGE_SIDE && this.height <= MAX_IMAGE_SIDE);

  init(): void {
    if (!this.run.init()) return;
    window.studio.on('jobs.preview', (preview) => {
      this.previews = { [preview.jobId]: preview };
    });
  }

  /**
   * Applies what the model's catalog entry recommends, when the user picks it (not on a remix,
   * which brings its own parameters). Imported folders have no entry and keep the current settings.
   */
  async applyRecommended(modelId: string): Promise<void> {
    if (models.catalog.length === 0) await models.loadCatalog();
    if (this.model !== modelId) return; // another pick meanwhile
    const entry = models.catalog.find((item) => item.installedId === modelId && item.kind === 'image');
    const r = entry?.recommended;
    if (!entry || !r) {
      this.modelNote = null;
      return;
    }
    if (r.steps !== undefined) this.steps = r.steps;
    if (r.guidance !== undefined) this.guidance = r.guidance;
    if (r.scheduler !== undefined) this.scheduler = r.scheduler;
    if (r.width !== undefined && r.height !== undefined) this.setSize(r.width, r.height);
    const parts = [
      r.steps !== undefined ? `${r.steps} ${r.steps === 1 ? 'step' : 'steps'}` : '',
      r.guidance !== undefined ? `guidance ${r.guidance}` : '',
      r.scheduler !== undefined ? SCHEDULER_LABELS[r.scheduler] : '',
      r.width !== undefined && r.height !== undefined ? `${r.width}×${r.height}` : '',
    ].filter(Boolean);
    this.modelNote = `Set for ${entry.title}: ${parts.join(', ')}.`;
  }

  setSize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }

  async generate(): Promise<void> {
    if (!this.run.canStartWith(this.model)) return;
    if (!this.sizeValid) {
      this.run.error = 'Width and height must be multiples of 8 between 64 and 2048.';
      return;
    }
    if (!this.outpaintValid) {
      this.run.error = 'Outpaint margins must be multiples of 8 (0 to 1024).';
      return;
    }
    if (!this.outpaintFits && this.outpaintSize) {
      this.run.error = `The outpainted picture would be ${this.outpaintSize.width} × ${this.outpaintSize.height}; keep each side within ${MAX_IMAGE_SIDE} (smaller margins or a smaller size).`;
      return;
    }
    if (this.initAssetId && this.maskPng) {
      // The painted mask becomes a library asset first, so the job (and any remix) names it by id.
      try {
        const { assetId } = await window.studio.image.saveMask({ png: this.maskPng });
        this.maskAssetId = assetId;
        this.maskPng = null;
      } catch (error) {
        this.run.error = `Could not store the mask: ${messageOf(error)}`;
        return;
      }
    }
    const masked = this.initAssetId !== null && this.maskAssetId !== null;
    const outpainting = this.initAssetId !== null && Object.values(this.outpaint).some((v) => v > 0);
    const seed = resolveSeed(this.seedMode, this.seed, this.lastSeed);
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
      ...(masked && this.maskAssetId ? { maskAssetId: this.maskAssetId } : {}),
      ...(masked || outpainting ? { maskBlur: this.maskBlur } : {}),
      ...(masked && this.maskedOnly && !outpainting ? { maskedOnly: true } : {}),
      ...(outpainting ? { outpaint: { ...this.outpaint } } : {}),
    };
    if (await this.run.start({ kind: 'image', params, ...(this.parentId ? { parentId: this.parentId } : {}) })) this.lastSeed = seed;
  }

  useAsInit(generation: Generation): void {
    const image = generation.assets.find((asset) => asset.mime.startsWith('image/'));
    if (!image) return;
    this.initAssetId = image.id;
    this.parentId = generation.id;
    this.resetMask();
  }

  /** Inpaint a picture: it becomes the init image and the mask editor opens over it. */
  inpaint(generation: Generation): void {
    this.useAsInit(generation);
    if (!this.initAssetId) return;
    // Inpainting keeps the picture's size (to the nearest multiple of 8 the model needs).
    const image = generation.assets.find((asset) => asset.id === this.initAssetId);
    const snap = (v: number): number => Math.min(2048, Math.max(64, Math.round(v / 8) * 8));
    if (image?.width && image.height) this.setSize(snap(image.width), snap(image.height));
    this.maskEditing = true;
  }

  clearInit(): void {
    this.initAssetId = null;
    this.resetMask();
  }

  /** A painted mask (null when nothing is painted) replaces the stored one. */
  setPaintedMask(png: string | null): void {
    this.maskPng = png;
    this.maskAssetId = null;
  }

  resetMask(): void {
    this.maskAssetId = null;
    this.maskPng = null;
    this.maskEditing = false;
    this.maskEditorKey++;
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
    this.modelNote = null; // a remix brings its own settings
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
    // The mask the picture was made with: its own copy first, else the asset its params name.
    const ownMask = generation.assets.find((asset) => asset.role === 'mask');
    this.maskPng = null;
    this.maskAssetId = this.initAssetId ? (ownMask?.id ?? str(p, 'maskAssetId') ?? null) : null;
    this.maskBlur = num(p, 'maskBlur') ?? 4;
    this.maskedOnly = p.maskedOnly === true;
    const o = p.outpaint;
    const margins: Record<string, unknown> = o !== null && typeof o === 'object' ? { ...o } : {};
    this.outpaint = { left: num(margins, 'left') ?? 0, top: num(margins, 'top') ?? 0, right: num(margins, 'right') ?? 0, bottom: num(margins, 'bottom') ?? 0 };
    this.maskEditing = this.maskAssetId !== null;
    this.maskEditorKey++;
    keepSeedOf(generation, this);
    this.parentId = generation.id;
  }
}

export const imageStudio = new ImageStudio();
