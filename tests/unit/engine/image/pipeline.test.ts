import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyModelDir, ensureImageFixtures, type ImageFixturePaths } from '../../../../scripts/fixtures/image';
import { LCM_GUIDANCE, oraclePicture } from '../../../../scripts/fixtures/image-oracle';
import { inspectModelDir } from '../../../../src/engine/runtime/layout';
import { generateImage } from '../../../../src/engine/image/pipeline';
import { EulerScheduler } from '../../../../src/engine/image/schedulers';
import { encodePng } from '../../../../src/engine/media/png';
import { StudioError } from '../../../../src/shared/errors';
import { CpuSessions, hooks, params, psnr, rgb } from './helpers';

let fx: ImageFixturePaths;
let tmp: string;
const sessions = new CpuSessions();
let n = 0;
const out = (): string => join(tmp, `run-${n++}`);

beforeAll(async () => {
  fx = await ensureImageFixtures();
  tmp = mkdtempSync(join(tmpdir(), 'atelier-image-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function picture(modelDir: string, p = params(), extra: Partial<Parameters<typeof generateImage>[2]> = {}) {
  const res = await generateImage(modelDir, p, { sessions, hooks: hooks(), outDir: out(), ...extra });
  const img = res.outputs.find((o) => o.role === 'image');
  if (!img) throw new Error('no image');
  return { res, img, pixels: await rgb(img.path) };
}

/** Euler without scale_model_input: the classic bug the oracle must catch. */
class EulerNoScale extends EulerScheduler {
  override scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }
}
/** Euler without the initial init_noise_sigma scaling. */
class EulerNoInitSigma extends EulerScheduler {
  override get initNoiseSigma(): number {
    return 1;
  }
}

describe('oracle: correct samplers end on the target picture', () => {
  for (const scheduler of ['euler', 'ddim', 'euler-a', 'dpmpp-2m-karras'] as const) {
    it(`${scheduler} reaches the target (PSNR ≥ 40 dB)`, async () => {
      const { pixels, res } = await picture(fx.imageOracle, params({ scheduler }));
      const target = oraclePicture(64, 64);
      const db = psnr(pixels.data, target);
      expect(db, `${scheduler}: ${db.toFixed(1)} dB`).toBeGreaterThanOrEqual(40);
      expect(res.provider).toBe('cpu');
    });
  }

  it('a sampler without scale_model_input misses it', async () => {
    const { pixels } = await picture(fx.imageOracle, params(), { createScheduler: (_n, c) => new EulerNoScale(c) });
    expect(psnr(pixels.data, oraclePicture(64, 64))).toBeLessThan(20);
  });

  it('a sampler without init_noise_sigma misses it', async () => {
    const { pixels } = await picture(fx.imageOracle, params(), { createScheduler: (_n, c) => new EulerNoInitSigma(c) });
    expect(psnr(pixels.data, oraclePicture(64, 64))).toBeLessThan(20);
  });
});

describe('generateImage', () => {
  it('same seed and params give byte-identical PNGs; another seed differs', async () => {
    const p = params({ scheduler: 'euler-a', seed: 7 });
    const a = await picture(fx.imageOracle, p);
    const b = await picture(fx.imageOracle, p);
    expect(readFileSync(a.img.path).equals(readFileSync(b.img.path))).toBe(true);
    const c = await picture(fx.imageOracle, params({ scheduler: 'euler-a', seed: 8, guidance: 1 }));
    expect(readFileSync(a.img.path).equals(readFileSync(c.img.path))).toBe(false);
  });

  it('CFG runs uncond + cond in one batch; guidance ≤ 1 runs a single item', async () => {
    const s = new CpuSessions();
    await generateImage(fx.imageOracle, params({ steps: 3 }), { sessions: s, hooks: hooks(), outDir: out() });
    const unet = s.calls.filter((c) => c.path.includes('/unet/'));
    expect(unet).toHaveLength(3);
    expect(unet[0].feeds.sample[0]).toBe(2);
    expect(s.calls.find((c) => c.path.includes('text_encoder'))?.feeds.input_ids).toEqual([2, 77]);
    const s1 = new CpuSessions();
    await generateImage(fx.imageOracle, params({ steps: 3, guidance: 1 }), { sessions: s1, hooks: hooks(), outDir: out() });
    expect(s1.calls.filter((c) => c.path.includes('/unet/'))[0].feeds.sample[0]).toBe(1);
  });

  it('reports progress, a PNG preview per step, timings, per-item seeds and thumbnails', async () => {
    const h = hooks();
    const res = await generateImage(fx.imageOracle, params({ steps: 4, batch: 2, seed: 4294967295 }), { sessions, hooks: h, outDir: out() });
    expect(h.progress.at(-1)).toEqual([8, 8]);
    expect(h.previews).toHaveLength(8);
    expect(h.previews[0].startsWith('data:image/png;base64,')).toBe(true);
    const images = res.outputs.filter((o) => o.role === 'image');
    expect(images.map((o) => o.seed)).toEqual([4294967295, 0]);
    expect(images.every((o) => o.width === 64 && o.height === 64 && o.mime === 'image/png')).toBe(true);
    expect(res.outputs.filter((o) => o.role === 'thumbnail')).toHaveLength(2);
    for (const k of ['textEncodeMs', 'denoiseMs', 'decodeMs', 'totalMs', 'sessionRunMs']) expect(res.timings[k]).toBeGreaterThan(0);
    expect(res.seed).toBe(4294967295);
  });

  it('non-square sizes work (width/height multiples of 8)', async () => {
    const { pixels } = await picture(fx.imageOracle, params({ width: 96, height: 64, scheduler: 'ddim' }));
    expect(pixels.width).toBe(96);
    expect(psnr(pixels.data, oraclePicture(96, 64))).toBeGreaterThanOrEqual(40);
  });

  it('cancel stops before the next step', async () => {
    const ac = new AbortController();
    const h = hooks({ signal: ac.signal });
    h.onProgress = (s) => {
      h.progress.push([s, 20]);
      if (s === 2) ac.abort();
    };
    const s = new CpuSessions();
    const err = await generateImage(fx.imageOracle, params(), { sessions: s, hooks: h, outDir: out() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('CANCELLED');
    expect(s.calls.filter((c) => c.path.includes('/unet/'))).toHaveLength(2);
    expect(s.calls.filter((c) => c.path.includes('vae_decoder'))).toHaveLength(0);
  });

  it('img2img strength 0 returns the init image exactly, recording that no model ran rather than a provider', async () => {
    const px = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 256);
    const init = join(tmp, 'init.png');
    writeFileSync(init, encodePng(px, 64, 64, 3));
    const s = new CpuSessions();
    const { pixels, res } = await picture(fx.imageOracle, params({ strength: 0, initAssetId: 'a1' }), { initImagePath: init, sessions: s });
    expect(Buffer.from(pixels.data).equals(Buffer.from(px))).toBe(true);
    expect(s.calls).toEqual([]);
    expect(res.provider).toBe('none');
    expect(res.providerNote).toMatch(/^No model ran: strength 0/);
  });

  it('img2img round-trips the target picture through the VAE encoder (both encoder outputs)', async () => {
    const init = join(tmp, 'target.png');
    writeFileSync(init, encodePng(oraclePicture(64, 64), 64, 64, 3));
    for (const dir of [fx.imageOracle, fx.imageInt64, fx.imageFp16]) {
      const s = new CpuSessions();
      const { pixels, res } = await picture(dir, params({ strength: 0.5, initAssetId: 'a1', scheduler: 'ddim' }), { initImagePath: init, sessions: s });
      expect(psnr(pixels.data, oraclePicture(64, 64))).toBeGreaterThanOrEqual(40);
      expect(s.calls.filter((c) => c.path.includes('/unet/'))).toHaveLength(10);
      expect(res.meta?.img2img).toBe(true);
    }
  });
});

describe('export variants', () => {
  const cases: [string, () => string, string, string][] = [
    ['timestep float[B], input_ids int64, latent_parameters', () => fx.imageOracle, 'float32[B]', 'int64'],
    ['timestep int64[B], input_ids int32, latent_sample', () => fx.imageInt64, 'int64[B]', 'int32'],
    ['timestep float scalar', () => fx.imageScalar, 'float32 scalar', 'int64'],
    ['external data (model.onnx_data) + tokenizer.json', () => fx.imageExternal, 'float32[B]', 'int64'],
    ['external data (weights.pb), input_ids int32', () => fx.imageWeightsPb, 'float32[B]', 'int32'],
    ['float16 inputs and outputs everywhere (fp16 export)', () => fx.imageFp16, 'float16[B]', 'int64'],
  ];
  for (const [name, dir, ts, ids] of cases) {
    it(`${name} runs and reaches the target with DDIM`, async () => {
      const { pixels, res } = await picture(dir(), params({ scheduler: 'ddim', steps: 10 }));
      expect(res.meta?.timestepInput).toBe(ts);
      expect(res.meta?.inputIds).toBe(ids);
      expect(psnr(pixels.data, oraclePicture(64, 64))).toBeGreaterThanOrEqual(40);
    });
  }

  it('an LCM unet gets the guidance embedding in timestep_cond, no CFG batch, and reaches the target in 4 steps', async () => {
    const s = new CpuSessions();
    const { pixels } = await picture(fx.imageLcm, params({ scheduler: 'lcm', steps: 4, guidance: LCM_GUIDANCE }), { sessions: s });
    const unet = s.calls.filter((c) => c.path.includes('/unet/'));
    expect(unet).toHaveLength(4);
    expect(unet[0]!.feeds.timestep_cond).toEqual([1, 256]);
    expect(unet[0]!.feeds.sample![0]).toBe(1);
    expect(psnr(pixels.data, oraclePicture(64, 64))).toBeGreaterThanOrEqual(40);
    // Another guidance is another embedding: the oracle then answers with the wrong picture.
    const other = await picture(fx.imageLcm, params({ scheduler: 'lcm', steps: 4, guidance: 4 }));
    expect(psnr(other.pixels.data, oraclePicture(64, 64))).toBeLessThan(20);
  });

  it('missing parts give MODEL_INVALID', async () => {
    const err = await generateImage(join(tmp, 'nope'), params(), { sessions, hooks: hooks(), outDir: out() }).catch((e: unknown) => e);
    expect((err as StudioError).code).toBe('MODEL_INVALID');
  });
});

describe('SDXL layout', () => {
  it('feeds both penultimate hidden states side by side, text_embeds and time_ids, and reaches the target', async () => {
    const s = new CpuSessions();
    // Not square, so time_ids in the wrong order (W, H) would show.
    const { pixels, res } = await picture(fx.imageSdxl, params({ scheduler: 'ddim', steps: 10, guidance: 5, negativePrompt: 'blurry', width: 96, height: 64 }), { sessions: s });
    expect(res.meta?.architecture).toBe('sdxl');
    expect(res.meta?.vaeScale).toBe(0.13025);
    const unet = s.calls.filter((c) => c.path.includes('/unet/'));
    expect(unet[0]!.feeds.encoder_hidden_states).toEqual([2, 77, 20]);
    expect(unet[0]!.feeds.text_embeds).toEqual([2, 6]);
    expect(unet[0]!.feeds.time_ids).toEqual([2, 6]);
    expect(s.calls.filter((c) => c.path.includes('/text_encoder_2/'))).toHaveLength(1);
    expect(psnr(pixels.data, oraclePicture(96, 64))).toBeGreaterThanOrEqual(40);
    expect(inspectModelDir(fx.imageSdxl)).toMatchObject({ kind: 'image', ok: true, architecture: 'ORTStableDiffusionXLPipeline' });
  });

  it('an SDXL unet without text_encoder_2 is MODEL_INVALID, naming the folder', async () => {
    const copy = join(tmp, 'sdxl-no-te2');
    copyModelDir(fx.imageSdxl, copy);
    rmSync(join(copy, 'text_encoder_2'), { recursive: true });
    expect(inspectModelDir(copy).problems.join(' ')).toMatch(/text_encoder_2\/model\.onnx is missing/);
    const err = await generateImage(copy, params(), { sessions: new CpuSessions(), hooks: hooks(), outDir: out() }).catch((e: unknown) => e);
    expect((err as StudioError).code).toBe('MODEL_INVALID');
    expect((err as StudioError).message).toMatch(/text_encoder_2/);
  });

  it('an empty negative prompt is all zeros (force_zeros_for_empty_prompt), and one step without guidance works (SDXL-Turbo)', async () => {
    const s = new CpuSessions();
    const { pixels } = await picture(fx.imageSdxl, params({ scheduler: 'ddim', steps: 10, guidance: 5, negativePrompt: '' }), { sessions: s });
    expect(psnr(pixels.data, oraclePicture(64, 64))).toBeGreaterThanOrEqual(40);
    // The encoders ran on the prompt alone: the negative row is zeros, not an encoded empty string.
    expect(s.calls.find((c) => c.path.includes('/text_encoder_2/'))!.feeds.input_ids).toEqual([1, 77]);
    const turbo = await picture(fx.imageSdxl, params({ scheduler: 'euler', steps: 1, guidance: 0, width: 64, height: 96 }));
    expect(turbo.res.meta?.cfg).toBe(false);
    expect(turbo.pixels.width).toBe(64);
  });
});
