import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures, type ImageFixturePaths } from '../../../../scripts/fixtures/image';
import { inInpaintDisc, LCM_GUIDANCE, inpaintMaskPicture, oracleLatent, oraclePicture } from '../../../../scripts/fixtures/image-oracle';
import { generateImage } from '../../../../src/engine/image/pipeline';
import { featherMask, latentMask, maskedOnlyCrop, outpaintCanvas } from '../../../../src/engine/image/inpaint';
import { planInpaint } from '../../../../src/engine/image/inpaint-plan';
import { NoiseGenerator } from '../../../../src/engine/image/noise';
import { createScheduler, type SchedulerConfig } from '../../../../src/engine/image/schedulers';
import { encodePng } from '../../../../src/engine/media/png';
import type { LoadedSession, SessionSource } from '../../../../src/engine/runtime/types';
import { CpuSessions, hooks, params, psnr, rgb } from './helpers';

let fx: ImageFixturePaths;
let tmp: string;
const sessions = new CpuSessions();
let n = 0;
const out = (): string => join(tmp, `run-${n++}`);
const S = 128;

beforeAll(async () => {
  fx = await ensureImageFixtures();
  tmp = mkdtempSync(join(tmpdir(), 'atelier-inpaint-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function png(name: string, px: Uint8Array, w: number, h: number): string {
  const file = join(tmp, name);
  writeFileSync(file, encodePng(px, w, h, 3));
  return file;
}

/** A greyscale PNG (as a painted mask is saved). */
async function greyPng(name: string, px: Uint8Array, w: number, h: number): Promise<string> {
  const file = join(tmp, name);
  await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
  return file;
}

/**
 * The oracle picture with a pattern whose mean over every 8×8 block is zero (so the VAE encoder,
 * which averages blocks, sees the oracle's own latents and the oracle stays in range): ±amp in a
 * checkerboard. Only a pixel composite can give these pixels back exactly.
 */
function patterned(width: number, height: number, amp: number, where: (X: number, Y: number) => boolean): Uint8Array {
  const px = oraclePicture(width, height);
  for (let Y = 0; Y < height; Y++) {
    for (let X = 0; X < width; X++) {
      if (!where(X, Y)) continue;
      const d = (X + Y) % 2 === 0 ? amp : -amp;
      for (let k = 0; k < 3; k++) {
        const i = (Y * width + X) * 3 + k;
        px[i] = Math.min(255, Math.max(0, px[i] + d));
      }
    }
  }
  return px;
}

/** Pixels of the disc at least `inset` px from its edge (a (2·inset+1)² square around them is inside). */
function discInterior(width: number, height: number, inset: number): boolean[] {
  const inside = Array.from({ length: width * height }, (_, i) => inInpaintDisc(i % width, Math.floor(i / width), width, height));
  return inside.map((v, i) => {
    if (!v) return false;
    const X = i % width;
    const Y = Math.floor(i / width);
    for (let dy = -inset; dy <= inset; dy++) for (let dx = -inset; dx <= inset; dx++) if (!inside[(Y + dy) * width + X + dx]) return false;
    return true;
  });
}

/** Pixels farther than `reach` px from the disc. */
function discOutside(width: number, height: number, reach: number): boolean[] {
  return discInterior(width, height, 0).map((_, i) => {
    const X = i % width;
    const Y = Math.floor(i / width);
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const x = X + dx;
        const y = Y + dy;
        if (x >= 0 && y >= 0 && x < width && y < height && inInpaintDisc(x, y, width, height)) return false;
      }
    }
    return true;
  });
}

function select(px: Uint8Array, keep: boolean[]): Uint8Array {
  const outPx: number[] = [];
  keep.forEach((k, i) => {
    if (k) outPx.push(px[i * 3], px[i * 3 + 1], px[i * 3 + 2]);
  });
  return Uint8Array.from(outPx);
}

function differing(a: Uint8Array, b: Uint8Array, keep: boolean[]): number {
  let count = 0;
  keep.forEach((k, i) => {
    if (k && (a[i * 3] !== b[i * 3] || a[i * 3 + 1] !== b[i * 3 + 1] || a[i * 3 + 2] !== b[i * 3 + 2])) count++;
  });
  return count;
}

async function run(modelDir: string, p: Parameters<typeof params>[0], init: string, mask?: string, s: SessionSource = sessions) {
  const res = await generateImage(modelDir, params({ width: S, height: S, initAssetId: 'init', ...(mask ? { maskAssetId: 'mask' } : {}), ...p }), {
    sessions: s,
    hooks: hooks(),
    outDir: out(),
    initImagePath: init,
    ...(mask ? { maskImagePath: mask } : {}),
    thumbnails: false,
  });
  const img = res.outputs.find((o) => o.role === 'image');
  if (!img) throw new Error('no image');
  return { res, pixels: await rgb(img.path) };
}

/** Sessions that keep a copy of every unet `sample` feed. */
class RecordingSessions implements SessionSource {
  readonly samples: Float32Array[] = [];
  private readonly cache = new Map<string, Promise<LoadedSession>>();
  load(modelFile: string): Promise<LoadedSession> {
    let p = this.cache.get(modelFile);
    if (!p) {
      p = ort.InferenceSession.create(modelFile, { executionProviders: ['cpu'], intraOpNumThreads: 1 }).then((session) => {
        const orig = session.run.bind(session);
        const spy = ((feeds: ort.InferenceSession.FeedsType) => {
          const sample = feeds.sample;
          if (modelFile.includes('/unet/') && sample) this.samples.push(Float32Array.from(sample.data as Float32Array));
          return orig(feeds);
        }) as typeof session.run;
        Object.defineProperty(session, 'run', { value: spy });
        return { session, path: modelFile, provider: 'cpu' as const };
      });
      this.cache.set(modelFile, p);
    }
    return p;
  }
}

describe('inpainting with a text-to-image unet (latent blending)', () => {
  it('lands on the target inside the mask and keeps every pixel outside the mask and its blur', async () => {
    // Inside: the target under a ±6 pattern (the pipeline must regenerate it to reach 40 dB);
    // outside: the target under a ±2 pattern the VAE cannot reproduce.
    const init = patterned(S, S, 2, () => true);
    const inner = patterned(S, S, 6, () => true);
    discInterior(S, S, 0).forEach((inside, i) => inside && init.set(inner.subarray(i * 3, i * 3 + 3), i * 3));
    const initFile = png('legacy-init.png', init, S, S);
    const maskFile = await greyPng('disc.png', inpaintMaskPicture(S, S), S, S);
    for (const [scheduler, blur] of [['euler', 4], ['ddim', 0], ['dpmpp-2m-karras', 6]] as const) {
      const { pixels, res } = await run(fx.imageOracle, { scheduler, strength: 1, maskBlur: blur }, initFile, maskFile);
      expect(res.meta?.inpaint).toBe('inpaint');
      // AUTOMATIC1111's infotext names the mask blur, as its inpainting does.
      expect(readFileSync(res.outputs[0]!.path).toString('latin1')).toContain(`Mask blur: ${blur}`);
      const inside = discInterior(S, S, 8 + blur);
      const db = psnr(select(pixels.data, inside), select(oraclePicture(S, S), inside));
      expect(db, `${scheduler}: ${db.toFixed(1)} dB`).toBeGreaterThanOrEqual(40);
      expect(psnr(select(init, inside), select(oraclePicture(S, S), inside))).toBeLessThan(40);
      expect(differing(pixels.data, init, discOutside(S, S, blur))).toBe(0);
    }
  });

  it('batches like txt2img: one picture and one mask per seed, previews every step, each composited', async () => {
    const init = patterned(64, 64, 2, () => true);
    const initFile = png('batch-init.png', init, 64, 64);
    const maskFile = await greyPng('batch-disc.png', inpaintMaskPicture(64, 64), 64, 64);
    const h = hooks();
    const res = await generateImage(fx.imageOracle, params({ initAssetId: 'i', maskAssetId: 'm', batch: 2, steps: 6, strength: 1, scheduler: 'euler-a', seed: 10, maskBlur: 0 }), {
      sessions,
      hooks: h,
      outDir: out(),
      initImagePath: initFile,
      maskImagePath: maskFile,
      thumbnails: false,
    });
    expect(h.progress.at(-1)).toEqual([12, 12]);
    expect(h.previews).toHaveLength(12);
    expect(res.outputs.filter((o) => o.role === 'image').map((o) => o.seed)).toEqual([10, 11]);
    expect(res.outputs.filter((o) => o.role === 'mask').map((o) => o.seed)).toEqual([10, 11]);
    for (const o of res.outputs.filter((x) => x.role === 'image')) expect(differing((await rgb(o.path)).data, init, discOutside(64, 64, 0))).toBe(0);
  });

  it('works with the fp16, SDXL and LCM layouts the pipeline reads', async () => {
    const init = patterned(S, S, 2, () => true);
    const inner = patterned(S, S, 6, () => true);
    discInterior(S, S, 0).forEach((inside, i) => inside && init.set(inner.subarray(i * 3, i * 3 + 3), i * 3));
    const initFile = png('layouts-init.png', init, S, S);
    const maskFile = await greyPng('layouts-disc.png', inpaintMaskPicture(S, S), S, S);
    const cases = [
      [fx.imageFp16, { scheduler: 'euler' }],
      [fx.imageSdxl, { scheduler: 'ddim', negativePrompt: '' }],
      [fx.imageLcm, { scheduler: 'lcm', steps: 4, guidance: LCM_GUIDANCE }],
    ] as const;
    for (const [dir, p] of cases) {
      const { pixels } = await run(dir, { strength: 1, maskBlur: 2, ...p }, initFile, maskFile);
      const inside = discInterior(S, S, 10);
      expect(psnr(select(pixels.data, inside), select(oraclePicture(S, S), inside)), dir).toBeGreaterThanOrEqual(40);
      expect(differing(pixels.data, init, discOutside(S, S, 2)), dir).toBe(0);
    }
  });

  it('puts the original back outside the mask after every step, noised to the next step’s level', async () => {
    const initFile = png('blend-init.png', oraclePicture(S, S), S, S);
    const maskFile = await greyPng('blend-disc.png', inpaintMaskPicture(S, S), S, S);
    const rec = new RecordingSessions();
    const steps = 12;
    // euler-a adds fresh noise each step: without blending the unmasked latents would drift from the first noise.
    await run(fx.imageOracle, { scheduler: 'euler-a', strength: 1, steps, guidance: 1, seed: 5 }, initFile, maskFile, rec);
    const h = S / 8;
    const cells = h * h;
    const config = JSON.parse(readFileSync(join(fx.imageOracle, 'scheduler', 'scheduler_config.json'), 'utf8')) as SchedulerConfig;
    const sch = createScheduler('euler-a', config);
    sch.setTimesteps(steps);
    const noise = new NoiseGenerator(5).randn(4 * cells);
    const x0 = oracleLatent(h, h);
    const kept: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) if (!inInpaintDisc(8 * x + 4, 8 * y + 4, S, S)) kept.push(y * h + x);
    expect(rec.samples).toHaveLength(steps);
    let checked = 0;
    for (let i = 1; i < steps; i++) {
      const sigma = sch.addNoise(new Float32Array(1), new Float32Array([1]), i)[0];
      if (sigma < 1) continue;
      const scale = sch.scaleModelInput(new Float32Array([1]), i)[0];
      let worst = 0;
      for (let c = 0; c < 4; c++) {
        for (const j of kept) {
          const k = c * cells + j;
          const implied = (rec.samples[i][k] / scale - x0[k]) / sigma;
          worst = Math.max(worst, Math.abs(implied - noise[k]));
        }
      }
      expect(worst, `step ${i}`).toBeLessThan(0.05);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });
});

describe('inpainting with a 9-channel inpainting unet', () => {
  it('the fixture disc tells centre sampling from top-left sampling', () => {
    const mask = inpaintMaskPicture(S, S).map((v) => (v >= 128 ? 1 : 0));
    const centre = latentMask(mask, S, S);
    let differ = 0;
    for (let y = 0; y < S / 8; y++) for (let x = 0; x < S / 8; x++) if ((mask[8 * y * S + 8 * x] ? 1 : 0) !== centre[y * (S / 8) + x]) differ++;
    expect(differ).toBeGreaterThan(0);
  });

  it('feeds concat(latents, mask, masked image latents) and reaches the target inside, the input outside', async () => {
    const init = patterned(S, S, 2, () => true);
    // The masked part is blanked before encoding: anything may be there.
    discInterior(S, S, 0).forEach((inside, i) => inside && init.fill(200, i * 3, i * 3 + 3));
    const initFile = png('nine-init.png', init, S, S);
    const maskFile = await greyPng('nine-disc.png', inpaintMaskPicture(S, S), S, S);
    const s = new CpuSessions();
    for (const [scheduler, blur] of [['euler', 0], ['euler-a', 4]] as const) {
      const { pixels, res } = await run(fx.imageInpaint, { scheduler, strength: 1, maskBlur: blur, steps: 16 }, initFile, maskFile, s);
      expect(res.meta?.inpaintUnet).toBe(true);
      // The mask is kept with the picture, as given (a lossless copy).
      const kept = res.outputs.find((o) => o.role === 'mask');
      expect(kept?.seed).toBe(1);
      const maskBack = await sharp(kept?.path ?? '').greyscale().raw().toBuffer();
      expect(Buffer.from(maskBack).equals(Buffer.from(inpaintMaskPicture(S, S)))).toBe(true);
      const inside = discInterior(S, S, 8 + blur);
      const db = psnr(select(pixels.data, inside), select(oraclePicture(S, S), inside));
      expect(db, `${scheduler}: ${db.toFixed(1)} dB`).toBeGreaterThanOrEqual(40);
      expect(differing(pixels.data, init, discOutside(S, S, blur))).toBe(0);
    }
    const unet = s.calls.filter((c) => c.path.includes('/unet/'));
    expect(unet[0]!.feeds.sample).toEqual([2, 9, S / 8, S / 8]);
  });

  it('the oracle answers with the wrong picture for another channel order or mask sampling', async () => {
    const session = await ort.InferenceSession.create(join(fx.imageInpaint, 'unet', 'model.onnx'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    const h = S / 8;
    const cells = h * h;
    const x0 = oracleLatent(h, h);
    const noise = new NoiseGenerator(3).randn(4 * cells);
    const t = 500;
    // σ(500) of the scaled_linear schedule the oracle uses
    let alphaBar = 1;
    for (let i = 0; i <= t; i++) alphaBar *= 1 - (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999) ** 2;
    const sigma = Math.sqrt((1 - alphaBar) / alphaBar);
    const binary = inpaintMaskPicture(S, S).map((v) => (v >= 128 ? 1 : 0));
    const centre = latentMask(binary, S, S);
    const topLeft = new Float32Array(cells).map((_, j) => binary[8 * Math.floor(j / h) * S + 8 * (j % h)]);
    const latents = x0.map((v, k) => (v + sigma * noise[k]) / Math.sqrt(1 + sigma * sigma));
    const masked = x0.map((v, k) => (centre[k % cells] ? 0 : v));
    const call = async (parts: Float32Array[]): Promise<number> => {
      const sample = new Float32Array(9 * cells);
      let o = 0;
      for (const p of parts) {
        sample.set(p, o);
        o += p.length;
      }
      const res = await session.run({
        sample: new ort.Tensor('float32', sample, [1, 9, h, h]),
        timestep: new ort.Tensor('float32', new Float32Array([t]), [1]),
        encoder_hidden_states: new ort.Tensor('float32', new Float32Array(77 * 32), [1, 77, 32]),
      });
      const eps = res.out_sample!.data as Float32Array;
      // The predicted clean latents inside the mask, compared with X0.
      let worst = 0;
      const s2 = Math.sqrt(1 + sigma * sigma);
      for (let k = 0; k < 4 * cells; k++) if (centre[k % cells]) worst = Math.max(worst, Math.abs(latents[k] * s2 - sigma * eps[k] - x0[k]));
      return worst;
    };
    expect(await call([latents, centre, masked])).toBeLessThan(0.5);
    expect(await call([latents, topLeft, masked])).toBeGreaterThan(10);
    expect(await call([latents, masked, centre])).toBeGreaterThan(10);
    expect(await call([centre, latents, masked])).toBeGreaterThan(10);
  });
});

describe('outpainting', () => {
  it('64 px on every side keeps the original pixels in place and generates the new area', async () => {
    const m = 64;
    const W = 64;
    const C = W + 2 * m;
    // The original is the middle of the target canvas, so the oracle's target continues it.
    const whole = oraclePicture(C, C);
    // (under a ±2 pattern the VAE cannot give back: only the composite keeps it)
    const patternedWhole = patterned(C, C, 2, () => true);
    const original = new Uint8Array(W * W * 3);
    for (let y = 0; y < W; y++) original.set(patternedWhole.subarray(((y + m) * C + m) * 3, ((y + m) * C + m + W) * 3), y * W * 3);
    const initFile = png('outpaint-init.png', original, W, W);
    const { pixels, res } = await run(fx.imageOracle, { width: W, height: W, strength: 1, outpaint: { left: m, top: m, right: m, bottom: m } }, initFile);
    expect(res.meta?.inpaint).toBe('outpaint');
    expect([pixels.width, pixels.height]).toEqual([C, C]);
    const inOriginal = (i: number): boolean => {
      const X = i % C;
      const Y = Math.floor(i / C);
      return X >= m && X < m + W && Y >= m && Y < m + W;
    };
    const all = Array.from({ length: C * C }, (_, i) => i);
    const originalArea = all.map(inOriginal);
    const placed = new Uint8Array(C * C * 3);
    for (let y = 0; y < W; y++) placed.set(original.subarray(y * W * 3, (y + 1) * W * 3), ((y + m) * C + m) * 3);
    expect(differing(pixels.data, placed, originalArea)).toBe(0);
    const { prefill } = outpaintCanvas({ data: original, width: W, height: W }, { left: m, top: m, right: m, bottom: m });
    const newArea = originalArea.map((v) => !v);
    expect(differing(pixels.data, prefill.data, newArea)).toBeGreaterThan(0.9 * (C * C - W * W));
    // Past the 16 px feather the new area is the generated picture: the oracle's target.
    const far = all.map((i) => {
      const X = i % C;
      const Y = Math.floor(i / C);
      return Math.max(m - X, X - (m + W - 1), m - Y, Y - (m + W - 1)) >= 16;
    });
    expect(psnr(select(pixels.data, far), select(whole, far))).toBeGreaterThanOrEqual(40);
  });

  it('refuses a canvas over 2048 px before it reads the picture or builds the canvas', async () => {
    const missing = join(tmp, 'never-read.png');
    await expect(planInpaint(params({ width: 1024, height: 512, strength: 1, outpaint: { left: 1024, top: 0, right: 8, bottom: 0 } }), missing, undefined)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'The outpainted canvas would be 2056×512; keep it within 2048×2048.',
    });
  });

  it('the pre-fill is continuous with the original at the seam and keeps it exactly', () => {
    const W = 32;
    const img = { data: new Uint8Array(W * W * 3).map((_, i) => (i * 7) % 256), width: W, height: W };
    const { prefill, original } = outpaintCanvas(img, { left: 16, top: 0, right: 8, bottom: 24 });
    expect([prefill.width, prefill.height]).toEqual([W + 24, W + 24]);
    expect(original).toEqual({ x: 16, y: 0, width: W, height: W });
    for (let y = 0; y < W; y++) {
      const row = prefill.data.subarray((y * prefill.width + 16) * 3, (y * prefill.width + 16 + W) * 3);
      expect(Buffer.from(row).equals(Buffer.from(img.data.subarray(y * W * 3, (y + 1) * W * 3)))).toBe(true);
      // The mirror: the pixel just left of the seam repeats the original's first column.
      expect([...prefill.data.subarray((y * prefill.width + 15) * 3, (y * prefill.width + 16) * 3)]).toEqual([...img.data.subarray(y * W * 3, y * W * 3 + 3)]);
    }
  });
});

describe('only masked area', () => {
  it('works on the crop at full resolution and pastes it back into the picture at its own size', async () => {
    const big = 192;
    const init = new Uint8Array(big * big * 3).map((_, i) => (i * 13) % 251);
    const initFile = png('masked-only-init.png', init, big, big);
    const mask = new Uint8Array(big * big);
    for (let y = 100; y < 130; y++) for (let x = 40; x < 70; x++) mask[y * big + x] = 255;
    const maskFile = await greyPng('masked-only-mask.png', mask, big, big);
    const { pixels, res } = await run(fx.imageOracle, { width: 64, height: 64, strength: 1, maskedOnly: true, maskBlur: 2, steps: 4 }, initFile, maskFile);
    expect(res.meta?.inpaint).toBe('masked-only');
    expect([pixels.width, pixels.height]).toEqual([big, big]);
    const reach = (i: number, r: number): boolean => {
      const X = i % big;
      const Y = Math.floor(i / big);
      return X >= 40 - r && X < 70 + r && Y >= 100 - r && Y < 130 + r;
    };
    const all = Array.from({ length: big * big }, (_, i) => i);
    expect(differing(pixels.data, init, all.map((i) => !reach(i, 2)))).toBe(0);
    expect(differing(pixels.data, init, all.map((i) => reach(i, -2)))).toBeGreaterThan(0.9 * 26 * 26);
  });

  it('the crop grows the mask bounds by the padding, to the generation aspect, inside the picture', () => {
    expect(maskedOnlyCrop({ x: 40, y: 100, width: 30, height: 30 }, 10, 192, 192, 1)).toEqual({ x: 30, y: 90, width: 50, height: 50 });
    expect(maskedOnlyCrop({ x: 0, y: 0, width: 20, height: 10 }, 0, 100, 100, 1)).toEqual({ x: 0, y: 0, width: 20, height: 20 });
    const wide = maskedOnlyCrop({ x: 50, y: 50, width: 10, height: 10 }, 5, 200, 200, 2);
    expect(wide.width / wide.height).toBeCloseTo(2, 1);
  });
});

describe('mask helpers', () => {
  it('the feather reaches exactly radius pixels and stays 1 deep inside', () => {
    const w = 40;
    const mask = new Uint8Array(w * w);
    for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) mask[y * w + x] = 1;
    const a = featherMask(mask, w, w, 5);
    expect(a[20 * w + 4]).toBe(0);
    expect(a[20 * w + 5]).toBeGreaterThan(0);
    expect(a[20 * w + 20]).toBe(1);
    expect(a[20 * w + 10]).toBeLessThan(1);
  });

  it('an empty mask is refused with a message a person can act on', async () => {
    const initFile = png('empty-init.png', oraclePicture(64, 64), 64, 64);
    const maskFile = await greyPng('empty-mask.png', new Uint8Array(64 * 64), 64, 64);
    const err = await generateImage(fx.imageOracle, params({ initAssetId: 'i', maskAssetId: 'm' }), { sessions, hooks: hooks(), outDir: out(), initImagePath: initFile, maskImagePath: maskFile }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/mask is empty/);
  });
});
