import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSameSizeFolder, buildSrFolder } from '../../scripts/fixtures/upscale';
import { readChunks, readTextChunks } from '../../src/shared/png-chunks';
import { inflateSync } from 'node:zlib';
import { tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const PHOTO = path.join(ROOT, 'tests/fixtures/photos/coffee.png');

async function atelier(args: string[], home: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ATELIER_HOME: home } });
}

describe('atelier upscale and upscaler imports', () => {
  let work: string;
  let small: string;
  beforeAll(async () => {
    work = tempDataDir('atelier-upscale-cli-');
    small = path.join(work, 'cup.png');
    await sharp(PHOTO).extract({ left: 200, top: 120, width: 80, height: 60 }).png().toFile(small);
  });

  it('upscales a file with a bundled model without opening a library', async () => {
    const out = path.join(work, 'out', 'cup-x2.png');
    const { stdout } = await atelier(['upscale', small, '--model', 'esrgan-slim-x2', '--tile', '48', '--out', out, '--json'], path.join(work, 'home'));
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ file: out, width: 160, height: 120, scale: 2, tile: 48, format: 'tfjs', provider: 'cpu', digitalSourceType: 'compositeWithTrainedAlgorithmicMedia' });
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([160, 120]);
    const texts = readTextChunks(readChunks(readFileSync(out)), inflateSync);
    expect(texts.get('XML:com.adobe.xmp')).toContain('compositeWithTrainedAlgorithmicMedia');
    expect(JSON.parse(texts.get('atelier')!)).toMatchObject({ kind: 'image', params: { mode: 'upscale', model: 'esrgan-slim-x2', scale: 2, tile: 48 } });
  });

  it('imports a Real-ESRGAN-layout folder with its own I/O names and upscales into the library with lineage', async () => {
    const library = path.join(work, 'lib');
    const folder = buildSrFolder(path.join(work, 'models', '4x-tiny'), { scale: 4, inputName: 'lr', outputName: 'hr' });
    const imported = JSON.parse((await atelier(['models', 'import', folder, '--name', 'Tiny x4', '--library', library, '--json'], library)).stdout) as { id: string; scale: number; format: string };
    expect(imported).toMatchObject({ id: 'tiny-x4', scale: 4, format: 'onnx' });

    const out = path.join(work, 'out', 'cup-x4.png');
    const result = JSON.parse((await atelier(['upscale', small, '--model', 'tiny-x4', '--tile', '32', '--library', library, '--out', out, '--json'], library)).stdout) as {
      generationId: string;
      parentId: string;
      width: number;
      params: Record<string, unknown>;
    };
    expect(result.width).toBe(320);
    expect(result.parentId).toMatch(/^[0-9A-Z]{26}$/);
    expect(result.params).toMatchObject({ mode: 'upscale', model: 'tiny-x4', tile: 32, overlap: 16, meta: { upscale: { scale: 4, inputName: 'lr', outputName: 'hr' } } });
    const shown = JSON.parse((await atelier(['library', 'show', result.generationId, '--library', library, '--json'], library)).stdout) as { parentId: string; kind: string };
    expect(shown).toMatchObject({ parentId: result.parentId, kind: 'image' });
  });

  it('refuses to import a folder that is not a super-resolution model, with the reason', async () => {
    const folder = buildSameSizeFolder(path.join(work, 'models', 'denoise'));
    const library = path.join(work, 'lib2');
    const failure = await atelier(['models', 'import', folder, '--library', library], library).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/not a super-resolution model.*same size/);
  });
});
