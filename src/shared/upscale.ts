import { z } from 'zod';

/**
 * Upscaling: parameters and the super-resolution models that ship with Atelier.
 *
 * An upscale is an image job in "upscale" mode (params carry `mode: 'upscale'`), not a job kind of
 * its own: its output is an image generation (kind 'image', so the library, search, lineage and
 * export treat it like any picture) and the jobs and generations tables keep their kinds. The
 * source is the parent generation's picture (`sourceAssetId`).
 */
export const UPSCALE_TILE_DEFAULT = 192;
export const UPSCALE_OVERLAP_DEFAULT = 16;

export const UpscaleParams = z.strictObject({
  mode: z.literal('upscale'),
  /** A bundled model id (esrgan-slim-x4, …), an imported model id, or (CLI only) a folder. */
  model: z.string().min(1).max(4096),
  /** The picture to upscale: a library asset id (the renderer never sends paths). */
  sourceAssetId: z.string().max(100).optional(),
  /** The factor asked for; a model made for another factor is picked by the bundled family, else refused. */
  scale: z.number().int().min(2).max(8).optional(),
  /** Tile size in source pixels (memory is bounded by it); 0 = the whole picture in one run. */
  tile: z.number().int().min(0).max(4096).default(UPSCALE_TILE_DEFAULT),
  overlap: z.number().int().min(0).max(256).default(UPSCALE_OVERLAP_DEFAULT),
});
export type UpscaleParams = z.infer<typeof UpscaleParams>;

export function isUpscaleParams(params: Record<string, unknown>): boolean {
  return params.mode === 'upscale';
}

export interface BundledUpscaler {
  id: string;
  family: 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick';
  /** The npm package the TF.js weights come from, and the folder inside it. */
  packageName: string;
  folder: string;
  scale: number;
  title: string;
  licence: { id: string; holder: string };
  /** Approximate size of the converted ONNX file. */
  approxBytes: number;
}

const FAMILIES = [
  { family: 'esrgan-slim', title: 'ESRGAN slim', bytes: 0.9e6 },
  { family: 'esrgan-medium', title: 'ESRGAN medium', bytes: 2.8e6 },
  { family: 'esrgan-thick', title: 'ESRGAN thick', bytes: 29e6 },
] as const;

/** The bundled models: every family at ×2 and ×4 (the factors the app offers). */
export const BUNDLED_UPSCALERS: readonly BundledUpscaler[] = FAMILIES.flatMap(({ family, title, bytes }) =>
  [2, 4].map((scale) => ({
    id: `${family}-x${scale}`,
    family,
    packageName: `@upscalerjs/${family}`,
    folder: `models/x${scale}`,
    scale,
    title: `${title} ×${scale}`,
    licence: { id: 'MIT', holder: 'Kevin Scott (UpscalerJS), trained on DIV2K' },
    approxBytes: bytes,
  })),
);

/** The default model for a factor: slim is fast on any CPU; the others are picked by the user. */
export function bundledUpscalerFor(scale: number, family: BundledUpscaler['family'] = 'esrgan-slim'): BundledUpscaler | undefined {
  return BUNDLED_UPSCALERS.find((m) => m.family === family && m.scale === scale);
}

export function findBundledUpscaler(id: string): BundledUpscaler | undefined {
  return BUNDLED_UPSCALERS.find((m) => m.id === id);
}

/** An upscale model as the Models view and the upscale actions see it. */
export const UpscaleModel = z.object({
  id: z.string(),
  name: z.string(),
  scale: z.number().int(),
  source: z.enum(['bundled', 'imported']),
  format: z.enum(['onnx', 'tfjs']),
  /** False when a bundled package or an imported folder is missing. */
  installed: z.boolean(),
  bytes: z.number(),
  licence: z.string().nullable(),
  path: z.string().nullable(),
});
export type UpscaleModel = z.infer<typeof UpscaleModel>;
