import sharp from 'sharp';
import { StudioError } from '../../shared/errors';
import { outpaintedSize } from '../../shared/image-canvas';
import type { OutpaintMargins } from '../../shared/params';

/**
 * Pixel-side inpainting and outpainting: reading the mask, the latent masks the denoiser uses, the
 * feathered alpha of the final composite, the "only masked area" crop and the outpaint pre-fill.
 * All pure functions over row-major buffers (RGB bytes, or one value per pixel), so the pipeline
 * only decides when to call them.
 */

export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Any picture sharp reads → RGB bytes, at its own size or resized (fill) to width × height. */
export async function readRgb(file: string, size?: { width: number; height: number }): Promise<Rgb> {
  let img = sharp(file).rotate().removeAlpha().toColourspace('srgb');
  const meta = await sharp(file).metadata();
  const upright = (meta.orientation ?? 1) < 5;
  const same = upright && meta.width === size?.width && meta.height === size?.height;
  // Resizing to the same size still resamples; a picture already at size is taken byte for byte.
  if (size && !same) img = img.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new StudioError('INVALID_INPUT', 'The init image could not be read as an RGB picture.');
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/**
 * The mask as 0/1 per pixel at width × height (1 = repaint): luminance ≥ 128 after flattening any
 * transparency onto black, resized by nearest neighbour so an edge stays where it was painted.
 */
export async function readMask(file: string, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await sharp(file)
    .rotate()
    .flatten({ background: '#000000' })
    .greyscale()
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new StudioError('INVALID_INPUT', 'The mask could not be read as a greyscale picture.');
  return thresholdMask(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Grey values → 0/1 at 0.5 (diffusers: mask/255, < 0.5 → 0, ≥ 0.5 → 1). */
export function thresholdMask(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = grey[i] >= 127.5 ? 1 : 0;
  return out;
}

export function maskIsEmpty(mask: Uint8Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i]) return false;
  return true;
}

/**
 * The mask at latent size (W/8 × H/8), 0/1, by nearest neighbour as PIL resizes it in diffusers'
 * ONNX inpaint pipeline: each latent cell takes the pixel at the centre of its 8×8 block
 * (source = floor((i + 0.5)·8) = 8i + 4), not its top-left corner.
 */
export function latentMask(mask: Uint8Array, width: number, height: number): Float32Array {
  const w = width / 8;
  const h = height / 8;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[(8 * y + 4) * width + 8 * x + 4] ? 1 : 0;
  return out;
}

/**
 * The final composite's alpha: the 0/1 mask blurred by a separable Gaussian (σ = radius/2)
 * truncated at `radius` pixels, so a pixel farther than `radius` from the mask gets exactly 0 and
 * stays the input's. radius 0 gives the mask itself.
 */
export function featherMask(mask: Uint8Array, width: number, height: number, radius: number): Float32Array {
  const out = Float32Array.from(mask);
  if (radius <= 0) return out;
  const sigma = radius / 2;
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const tmp = new Float32Array(out.length);
  // Edges clamp (the mask continues as its border value), so a mask touching the frame stays 1 there.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let k = -radius; k <= radius; k++) v += kernel[k + radius] * out[y * width + Math.min(width - 1, Math.max(0, x + k))];
      tmp[y * width + x] = v;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let k = -radius; k <= radius; k++) v += kernel[k + radius] * tmp[Math.min(height - 1, Math.max(0, y + k)) * width + x];
      out[y * width + x] = v;
    }
  }
  // Exactly 0 where no masked pixel is within reach (float sums of zeros are 0 already) and exactly 1
  // where every pixel within reach is masked (rounding of the normalised kernel can leave 0.99999).
  for (let i = 0; i < out.length; i++) if (out[i] > 0.9999) out[i] = 1;
  return out;
}

/** base·(1 − α) + over·α per pixel, rounded; α = 0 keeps base's byte exactly. */
export function composite(base: Rgb, over: Uint8Array, alpha: Float32Array): Uint8Array {
  const out = new Uint8Array(base.data);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i];
    if (a <= 0) continue;
    for (let k = 0; k < 3; k++) {
      const j = i * 3 + k;
      out[j] = a >= 1 ? over[j] : Math.round(base.data[j] * (1 - a) + over[j] * a);
    }
  }
  return out;
}

/** The smallest rectangle holding every masked pixel, or null for an empty mask. */
export function maskBounds(mask: Uint8Array, width: number, height: number): Rect | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * "Only masked area" (A1111): the mask's bounds grown by `padding`, then widened or heightened
 * to the generation's aspect ratio (so the crop is not distorted when resized to it), kept inside
 * the picture.
 */
export function maskedOnlyCrop(bounds: Rect, padding: number, imageWidth: number, imageHeight: number, aspect: number): Rect {
  let x0 = bounds.x - padding;
  let y0 = bounds.y - padding;
  let x1 = bounds.x + bounds.width + padding;
  let y1 = bounds.y + bounds.height + padding;
  const cw = x1 - x0;
  const ch = y1 - y0;
  if (cw / ch < aspect) {
    const grow = ch * aspect - cw;
    x0 -= grow / 2;
    x1 += grow / 2;
  } else {
    const grow = cw / aspect - ch;
    y0 -= grow / 2;
    y1 += grow / 2;
  }
  // Shift back inside the picture before clamping, so the crop keeps its size where it can.
  const shift = (lo: number, hi: number, max: number): [number, number] => {
    if (lo < 0) [lo, hi] = [0, hi - lo];
    if (hi > max) [lo, hi] = [lo - (hi - max), max];
    return [Math.max(0, Math.round(lo)), Math.min(max, Math.round(hi))];
  };
  [x0, x1] = shift(x0, x1, imageWidth);
  [y0, y1] = shift(y0, y1, imageHeight);
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

export function cropRgb(img: Rgb, r: Rect): Rgb {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) data.set(img.data.subarray(((r.y + y) * img.width + r.x) * 3, ((r.y + y) * img.width + r.x + r.width) * 3), y * r.width * 3);
  return { data, width: r.width, height: r.height };
}

export function cropPlane<T extends Uint8Array | Float32Array>(plane: T, width: number, r: Rect): T {
  const out = (plane instanceof Float32Array ? new Float32Array(r.width * r.height) : new Uint8Array(r.width * r.height)) as T;
  for (let y = 0; y < r.height; y++) out.set(plane.subarray((r.y + y) * width + r.x, (r.y + y) * width + r.x + r.width), y * r.width);
  return out;
}

/** Place `part` at (r.x, r.y) into a copy of `into` (same channel count). */
export function pasteRgb(into: Rgb, part: Uint8Array, r: Rect): Uint8Array {
  const out = new Uint8Array(into.data);
  for (let y = 0; y < r.height; y++) out.set(part.subarray(y * r.width * 3, (y + 1) * r.width * 3), ((r.y + y) * into.width + r.x) * 3);
  return out;
}

/** Resize RGB bytes with sharp (lanczos3). */
export async function resizeRgb(img: Rgb, width: number, height: number): Promise<Uint8Array> {
  if (img.width === width && img.height === height) return img.data;
  const buf = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Nearest-neighbour resize of a 0/1 plane. */
export function resizeMaskNearest(mask: Uint8Array, width: number, height: number, toWidth: number, toHeight: number): Uint8Array {
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0; y < toHeight; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / toHeight));
    for (let x = 0; x < toWidth; x++) out[y * toWidth + x] = mask[sy * width + Math.min(width - 1, Math.floor(((x + 0.5) * width) / toWidth))];
  }
  return out;
}

/** Mirror index (symmetric, edge pixel repeated once) for any i, also beyond one reflection. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** Separable box blur of RGB bytes (float result), radius r, clamped edges. */
function boxBlur(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const n = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < 3; k++) {
      let acc = 0;
      for (let d = -r; d <= r; d++) acc += src[(y * width + Math.min(width - 1, Math.max(0, d))) * 3 + k];
      for (let x = 0; x < width; x++) {
        tmp[(y * width + x) * 3 + k] = acc / n;
        acc += src[(y * width + Math.min(width - 1, x + r + 1)) * 3 + k] - src[(y * width + Math.max(0, x - r)) * 3 + k];
      }
    }
  }
  for (let x = 0; x < width; x++) {
    for (let k = 0; k < 3; k++) {
      let acc = 0;
      for (let d = -r; d <= r; d++) acc += tmp[(Math.min(height - 1, Math.max(0, d)) * width + x) * 3 + k];
      for (let y = 0; y < height; y++) {
        out[(y * width + x) * 3 + k] = acc / n;
        acc += tmp[(Math.min(height - 1, y + r + 1) * width + x) * 3 + k] - tmp[(Math.max(0, y - r) * width + x) * 3 + k];
      }
    }
  }
  return out;
}

export interface OutpaintCanvas {
  /** The init picture in the middle, the pre-fill around it. */
  prefill: Rgb;
  /** Where the original sits on the canvas. */
  original: Rect;
  /** Per canvas pixel: Chebyshev distance in pixels from the original (0 inside it). */
  distance: Float32Array;
}

/**
 * The outpaint canvas, pre-filled with a blurred mirror of the picture: the mirror is continuous
 * with the original at the seam (same colours, same local texture statistics), and blurring it
 * more the farther it gets from the seam (three box passes ≈ Gaussian) removes the copied detail so
 * the denoiser invents new content instead of repeating a reflected object. Edge stretching leaves
 * streaks that img2img keeps, and noise has no colour continuity at all: both show seams.
 */
export function outpaintCanvas(img: Rgb, m: OutpaintMargins): OutpaintCanvas {
  const { width, height } = outpaintedSize(img.width, img.height, m);
  const mirror = new Float32Array(width * height * 3);
  const distance = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = reflect(y - m.top, img.height);
    const dy = Math.max(0, m.top - y, y - (m.top + img.height - 1));
    for (let x = 0; x < width; x++) {
      const sx = reflect(x - m.left, img.width);
      const src = (sy * img.width + sx) * 3;
      const dst = (y * width + x) * 3;
      mirror[dst] = img.data[src];
      mirror[dst + 1] = img.data[src + 1];
      mirror[dst + 2] = img.data[src + 2];
      distance[y * width + x] = Math.max(dy, Math.max(0, m.left - x, x - (m.left + img.width - 1)));
    }
  }
  const reach = Math.max(m.left, m.top, m.right, m.bottom);
  const r = Math.max(1, Math.round(reach / 6));
  const blurred = boxBlur(boxBlur(boxBlur(mirror, width, height, r), width, height, r), width, height, r);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.min(1, Math.max(0, distance[i] - 1) / Math.max(1, reach / 2));
    for (let k = 0; k < 3; k++) data[i * 3 + k] = Math.round(mirror[i * 3 + k] * (1 - t) + blurred[i * 3 + k] * t);
  }
  return { prefill: { data, width, height }, original: { x: m.left, y: m.top, width: img.width, height: img.height }, distance };
}
