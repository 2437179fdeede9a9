import { StudioError } from '../../shared/errors';
import { MAX_IMAGE_SIDE, outpaintedSize } from '../../shared/image-canvas';
import type { ImageParams } from '../../shared/params';
import {
  composite,
  cropPlane,
  cropRgb,
  featherMask,
  latentMask,
  maskBounds,
  maskedOnlyCrop,
  maskIsEmpty,
  outpaintCanvas,
  pasteRgb,
  readMask,
  readRgb,
  resizeMaskNearest,
  resizeRgb,
  type Rgb,
} from './inpaint';

/** Default feather (px) of the final composite: a soft edge without reaching far past the mask. */
export const DEFAULT_MASK_BLUR = 4;
/** Default feather (px) on the new side of an outpaint seam, where the pre-fill fades into the generated picture. */
export const DEFAULT_OUTPAINT_FEATHER = 16;
/** How far into the original the denoiser repaints across an outpaint seam: one latent cell. */
const SEAM_OVERLAP = 8;
/** Context kept around the mask in "only masked area" (A1111's default padding). */
const MASKED_ONLY_PADDING = 32;

/**
 * How one img2img / inpaint / outpaint run maps onto the denoiser: the picture it encodes at the
 * generation size, the 0/1 repaint mask at that size and at latent size, and how a generated
 * picture becomes the output (the final composite, pasted back for only-masked).
 */
export interface InpaintPlan {
  mode: 'img2img' | 'inpaint' | 'masked-only' | 'outpaint';
  width: number;
  height: number;
  canvas: Rgb;
  /** 1 = repaint, per generation pixel; null for plain img2img. */
  repaint: Uint8Array | null;
  /** The same at W/8 × H/8 (nearest, pixel centre); null for plain img2img. */
  latentMask: Float32Array | null;
  finish(generated: Uint8Array): Promise<Rgb>;
}

export async function planInpaint(params: ImageParams, initPath: string, maskPath: string | undefined): Promise<InpaintPlan> {
  const W = params.width;
  const H = params.height;
  const blur = params.maskBlur ?? DEFAULT_MASK_BLUR;

  if (params.outpaint) {
    if (params.maskedOnly) throw new StudioError('INVALID_INPUT', 'Outpainting and "only masked area" cannot be combined: outpaint first, then inpaint a part of the result.');
    const m = params.outpaint;
    // Refused before the picture is read and the canvas's buffers are made.
    const { width: CW, height: CH } = outpaintedSize(W, H, m);
    if (CW > MAX_IMAGE_SIDE || CH > MAX_IMAGE_SIDE) throw new StudioError('INVALID_INPUT', `The outpainted canvas would be ${CW}×${CH}; keep it within ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE}.`);
    const init = await readRgb(initPath, { width: W, height: H });
    const { prefill, original, distance } = outpaintCanvas(init, m);
    // A user mask over the original repaints there too (placed into the canvas).
    const user = new Uint8Array(CW * CH);
    if (maskPath !== undefined) {
      const inner = await readMask(maskPath, W, H);
      for (let y = 0; y < H; y++) user.set(inner.subarray(y * W, (y + 1) * W), (original.y + y) * CW + original.x);
    }
    // The denoiser repaints the new area and one latent cell into the original across each seam
    // (so the new content is made to fit what it meets); the composite keeps every original pixel.
    const repaint = new Uint8Array(CW * CH);
    for (let y = 0; y < CH; y++) {
      for (let x = 0; x < CW; x++) {
        const i = y * CW + x;
        const nearSeam =
          (m.left > 0 && x - original.x < SEAM_OVERLAP) ||
          (m.top > 0 && y - original.y < SEAM_OVERLAP) ||
          (m.right > 0 && original.x + original.width - 1 - x < SEAM_OVERLAP) ||
          (m.bottom > 0 && original.y + original.height - 1 - y < SEAM_OVERLAP);
        repaint[i] = distance[i] > 0 || nearSeam || user[i] ? 1 : 0;
      }
    }
    // Alpha: 0 on the original (unless the user masked it), rising from 0 at the seam to 1 at
    // `feather` px into the new area, so the pre-fill (continuous with the original) carries the seam.
    const feather = Math.max(1, params.maskBlur ?? DEFAULT_OUTPAINT_FEATHER);
    const userAlpha = featherMask(user, CW, CH, blur);
    const alpha = new Float32Array(CW * CH);
    for (let i = 0; i < alpha.length; i++) alpha[i] = distance[i] > 0 ? Math.max(userAlpha[i], Math.min(1, distance[i] / feather)) : userAlpha[i];
    const base: Rgb = { data: new Uint8Array(prefill.data), width: CW, height: CH };
    // The original pixels go into the base exactly (the pre-fill already holds them, byte for byte).
    return {
      mode: 'outpaint',
      width: CW,
      height: CH,
      canvas: prefill,
      repaint,
      latentMask: latentMask(repaint, CW, CH),
      finish: async (generated) => ({ data: composite(base, generated, alpha), width: CW, height: CH }),
    };
  }

  if (maskPath === undefined) {
    const canvas = await readRgb(initPath, { width: W, height: H });
    return { mode: 'img2img', width: W, height: H, canvas, repaint: null, latentMask: null, finish: async (generated) => ({ data: generated, width: W, height: H }) };
  }

  if (params.maskedOnly) {
    // The whole picture at its own size; the crop around the mask is generated at W × H.
    const full = await readRgb(initPath);
    const mask = await readMask(maskPath, full.width, full.height);
    const bounds = maskBounds(mask, full.width, full.height);
    if (!bounds) throw emptyMask();
    const crop = maskedOnlyCrop(bounds, MASKED_ONLY_PADDING + blur, full.width, full.height, W / H);
    const canvas: Rgb = { data: await resizeRgb(cropRgb(full, crop), W, H), width: W, height: H };
    const repaint = resizeMaskNearest(cropPlane(mask, full.width, crop), crop.width, crop.height, W, H);
    if (maskIsEmpty(repaint)) throw new StudioError('INVALID_INPUT', 'The mask is too thin to survive scaling the masked area; paint a larger area or turn off "only masked area".');
    const alpha = featherMask(mask, full.width, full.height, blur);
    return {
      mode: 'masked-only',
      width: W,
      height: H,
      canvas,
      repaint,
      latentMask: latentMask(repaint, W, H),
      finish: async (generated) => {
        const back = await resizeRgb({ data: generated, width: W, height: H }, crop.width, crop.height);
        const pasted = pasteRgb(full, back, crop);
        return { data: composite(full, pasted, alpha), width: full.width, height: full.height };
      },
    };
  }

  const canvas = await readRgb(initPath, { width: W, height: H });
  const repaint = await readMask(maskPath, W, H);
  if (maskIsEmpty(repaint)) throw emptyMask();
  const alpha = featherMask(repaint, W, H, blur);
  return {
    mode: 'inpaint',
    width: W,
    height: H,
    canvas,
    repaint,
    latentMask: latentMask(repaint, W, H),
    finish: async (generated) => ({ data: composite(canvas, generated, alpha), width: W, height: H }),
  };
}

function emptyMask(): StudioError {
  return new StudioError('INVALID_INPUT', 'The mask is empty: paint the area to regenerate (white = repaint).');
}

/** The inpainting settings in AUTOMATIC1111's infotext spelling ("Mask blur: 4, Inpaint area: Only masked"). */
export function a1111InpaintFields(mode: InpaintPlan['mode'], params: ImageParams): Record<string, string | number> {
  if (mode === 'img2img') return {};
  if (mode === 'outpaint') return { 'Mask blur': params.maskBlur ?? DEFAULT_OUTPAINT_FEATHER, Outpaint: Object.values(params.outpaint ?? {}).join(',') };
  return { 'Mask blur': params.maskBlur ?? DEFAULT_MASK_BLUR, ...(mode === 'masked-only' ? { 'Inpaint area': 'Only masked', 'Masked area padding': MASKED_ONLY_PADDING } : {}) };
}
