import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/engine/media/png';
import { allFixtures, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function atelier(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('atelier generate image --mask / --outpaint', () => {
  let fx: Awaited<ReturnType<typeof allFixtures>>;
  let library: string;
  let init: string;
  let mask: string;
  const initPx = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 29) % 256);

  beforeAll(async () => {
    fx = await allFixtures();
    library = tempDataDir('atelier-cli-inpaint-');
    init = path.join(library, 'init.png');
    writeFileSync(init, encodePng(initPx, 64, 64, 3));
    // White (repaint) on the right half.
    mask = path.join(library, 'mask.png');
    const m = new Uint8Array(64 * 64 * 3).map((_, i) => ((i / 3) % 64 >= 32 ? 255 : 0));
    writeFileSync(mask, encodePng(m, 64, 64, 3));
  });

  it('repaints only the masked half and keeps the mask with the generation', async () => {
    const out = path.join(library, 'out', 'inpainted.png');
    const res = JSON.parse((await atelier(['generate', 'image', '--library', library, '--model', fx.images.imageOracle, '--prompt', 'a harbour', '--steps', '4', '--width', '64', '--height', '64', '--seed', '3', '--init', init, '--mask', mask, '--mask-blur', '0', '--strength', '1', '--out', out, '--json'])).stdout) as { generationId: string };
    const px = await pixels(out);
    let leftDiffers = 0;
    let rightDiffers = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const same = px.data[i * 3] === initPx[i * 3] && px.data[i * 3 + 1] === initPx[i * 3 + 1] && px.data[i * 3 + 2] === initPx[i * 3 + 2];
      if (!same && i % 64 < 32) leftDiffers++;
      if (!same && i % 64 >= 32) rightDiffers++;
    }
    expect(leftDiffers).toBe(0);
    expect(rightDiffers).toBeGreaterThan(0.9 * 32 * 64);
    const shown = JSON.parse((await atelier(['library', 'show', res.generationId, '--library', library, '--json'])).stdout) as { params: { maskAssetId?: string; maskBlur?: number; initAssetId?: string } };
    expect(shown.params.maskAssetId).toMatch(/\S/);
    expect(shown.params.maskAssetId).not.toBe(shown.params.initAssetId);
    expect(shown.params.maskBlur).toBe(0);
  });

  it('outpaints by the given margins', async () => {
    const out = path.join(library, 'out', 'wider.png');
    await atelier(['generate', 'image', '--library', library, '--model', fx.images.imageOracle, '--prompt', 'a harbour', '--steps', '4', '--width', '64', '--height', '64', '--init', init, '--outpaint', '16,0,8,0', '--strength', '1', '--out', out, '--json']);
    const px = await pixels(out);
    expect([px.width, px.height]).toEqual([88, 64]);
    for (let y = 0; y < 64; y++) expect(px.data.subarray((y * 88 + 16) * 3, (y * 88 + 80) * 3).equals(Buffer.from(initPx.subarray(y * 64 * 3, (y + 1) * 64 * 3)))).toBe(true);
  });

  it('refuses --outpaint margins that are not multiples of 8', async () => {
    const err = await atelier(['generate', 'image', '--library', library, '--model', fx.images.imageOracle, '--prompt', 'x', '--init', init, '--outpaint', '10,0,0,0', '--out', path.join(library, 'x.png')]).catch((e: unknown) => e as { stderr: string });
    expect((err as { stderr: string }).stderr).toMatch(/multiples of 8/);
  });
});
