import { z } from 'zod';
import { UpscaleParams } from './upscale';
import { MAX_IMAGE_SIDE } from './image-canvas';

/** Generation parameters per kind. The library stores these JSON objects verbatim. */
export const Seed = z.number().int().min(0).max(2 ** 32 - 1);

export const TextParams = z.strictObject({
  model: z.string().min(1).max(500),
  prompt: z.string().max(200_000),
  /** 'continue' uses plain continuation; the other actions use the model's chat template when it has one. */
  action: z.enum(['continue', 'rewrite', 'shorten', 'expand', 'summarize', 'brainstorm', 'instruct']).default('continue'),
  instruction: z.string().max(4000).optional(),
  notes: z.string().max(20_000).optional(),
  documentId: z.string().max(100).optional(),
  maxNewTokens: z.number().int().min(1).max(8192).default(128),
  temperature: z.number().min(0).max(5).default(0.8),
  topP: z.number().gt(0).max(1).default(0.95),
  topK: z.number().int().min(0).max(1000).default(50),
  repetitionPenalty: z.number().min(1).max(3).default(1.1),
  seed: Seed.optional(),
  /** Min-p sampling (llama.cpp models): drop tokens below minP × the top token's probability. */
  minP: z.number().min(0).max(1).optional(),
  /** Texts that end the generation when produced (llama.cpp models); not part of the output. */
  stop: z.array(z.string().min(1).max(200)).max(8).optional(),
  /** A conversation (the OpenAI-compatible endpoint's chat completions): rendered by the model's chat template instead of `prompt`. */
  messages: z.array(z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(200_000) })).min(1).max(500).optional(),
});
export type TextParams = z.infer<typeof TextParams>;

export const SCHEDULERS = ['euler', 'euler-a', 'ddim', 'dpmpp-2m-karras', 'lcm'] as const;
export const Scheduler = z.enum(SCHEDULERS);

/** Image settings a model is made for (catalog `recommended`), applied when the model is picked. */
export const RecommendedImageSettings = z
  .strictObject({
    steps: z.number().int().min(1).max(150),
    guidance: z.number().min(0).max(30),
    scheduler: Scheduler,
    width: z.number().int().min(64).max(2048).multipleOf(8),
    height: z.number().int().min(64).max(2048).multipleOf(8),
  })
  .partial();
export type RecommendedImageSettings = z.infer<typeof RecommendedImageSettings>;
export type Scheduler = z.infer<typeof Scheduler>;

const multipleOf8 = z.number().int().min(64).max(MAX_IMAGE_SIDE).multipleOf(8);

const margin = z.number().int().min(0).max(1024).multipleOf(8);
export const OutpaintMargins = z.strictObject({ left: margin, top: margin, right: margin, bottom: margin });
export type OutpaintMargins = z.infer<typeof OutpaintMargins>;

export const ImageParams = z.strictObject({
  model: z.string().min(1).max(500),
  prompt: z.string().max(4000),
  negativePrompt: z.string().max(4000).default(''),
  width: multipleOf8.default(512),
  height: multipleOf8.default(512),
  steps: z.number().int().min(1).max(150).default(20),
  guidance: z.number().min(0).max(30).default(7),
  scheduler: Scheduler.default('euler'),
  seed: Seed.optional(),
  batch: z.number().int().min(1).max(16).default(1),
  /** img2img: an asset id from the library (the renderer never sends paths). */
  initAssetId: z.string().max(100).optional(),
  strength: z.number().min(0).max(1).default(0.75),
  /** Inpainting: a library asset id of the mask (white = repaint); needs initAssetId. */
  maskAssetId: z.string().max(100).optional(),
  /** Feather radius in pixels of the final composite (outside mask + radius stays the input exactly). */
  maskBlur: z.number().int().min(0).max(64).optional(),
  /** "Only masked area": crop around the mask, generate at width × height, paste back into the full picture. */
  maskedOnly: z.boolean().optional(),
  /** Outpainting: pixels added on each side of the init image (multiples of 8). */
  outpaint: OutpaintMargins.optional(),
});
export type ImageParams = z.infer<typeof ImageParams>;

export const MusicParams = z.strictObject({
  model: z.string().min(1).max(500),
  prompt: z.string().max(4000),
  seconds: z.number().min(0.5).max(300).default(8),
  guidance: z.number().min(0).max(20).default(3),
  temperature: z.number().min(0).max(5).default(1),
  topK: z.number().int().min(0).max(2048).default(250),
  seed: Seed.optional(),
  variations: z.number().int().min(1).max(8).default(1),
  format: z.enum(['pcm16', 'float32']).default('pcm16'),
  /** Extend a library piece: the new audio continues it (seconds = length of the added part). */
  extendAssetId: z.string().max(100).optional(),
});
export type MusicParams = z.infer<typeof MusicParams>;

export const GenerationKind = z.enum(['text', 'image', 'music']);
export type GenerationKind = z.infer<typeof GenerationKind>;

/** What an installed model does: generates one kind, or embeds items for search by meaning. */
export const ModelKind = z.enum(['text', 'image', 'music', 'embedding']);
export type ModelKind = z.infer<typeof ModelKind>;

export const JobRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('text'), params: TextParams, parentId: z.string().max(100).optional(), priority: z.number().int().min(-10).max(10).default(0) }),
  // An image job is a generation (ImageParams) or an upscale of a library picture (UpscaleParams, mode 'upscale').
  z.strictObject({ kind: z.literal('image'), params: z.union([ImageParams, UpscaleParams]), parentId: z.string().max(100).optional(), priority: z.number().int().min(-10).max(10).default(0) }),
  z.strictObject({ kind: z.literal('music'), params: MusicParams, parentId: z.string().max(100).optional(), priority: z.number().int().min(-10).max(10).default(0) }),
]);
export type JobRequest = z.infer<typeof JobRequest>;
