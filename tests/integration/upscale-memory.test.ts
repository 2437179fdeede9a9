import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildSrFolder } from '../../scripts/fixtures/upscale';
import { tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/**
 * Memory follows the tile size: a ×4 upscale of 2048×2048 (8192×8192 out, 201 MB of 8-bit RGB)
 * peaks under 1 GB in its process. A full-size float canvas alone would be 1 GB (8192² × 3 × 4 B,
 * plus the weights), so an implementation that accumulates the whole picture in floats fails here.
 * The model is a Real-ESRGAN-layout ×4 fixture (one cheap conv), so the test measures the tiling,
 * not the network.
 */
describe('upscale memory', () => {
  it('keeps a 2048² ×4 upscale under 1 GB peak RSS', async () => {
    const work = tempDataDir('atelier-upscale-mem-');
    const model = buildSrFolder(path.join(work, 'x4'), { scale: 4, inputName: 'x', outputName: 'y' });
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/integration/helpers/upscale-peak-child.ts'), model, path.join(work, 'cache')], { cwd: ROOT, maxBuffer: 1024 * 1024 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { peakMb: number; outputBytes: number; tiles: number; scale: number };
    console.log(`2048² ×4 → 8192²: ${result.tiles} tiles, peak RSS ${result.peakMb.toFixed(0)} MB`);
    expect(result).toMatchObject({ scale: 4, outputBytes: 8192 * 8192 * 3, tiles: 144 });
    expect(result.peakMb).toBeLessThan(1024);
  });
});
