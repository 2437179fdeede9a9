import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures, oraclePicture, type ImageFixturePaths } from '../../../../scripts/fixtures/image';
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
