/**
 * Child process for the peak-memory test: a 2048×2048 picture upscaled ×4 (8192×8192 out) in
 * 192 px tiles by a Real-ESRGAN-layout ×4 fixture through the engine's model loading and tile
 * code, then prints this process's peak RSS (MB) as JSON. Run in its own process so nothing else
 * counts towards the peak.
 */
import path from 'node:path';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { loadUpscaleModel } from '../../../src/engine/upscale/model';
import { upscaleTiled } from '../../../src/engine/upscale/tiles';
import { sessionTileRunner } from '../../../src/engine/upscale/upscale';

async function main(): Promise<void> {
  const [modelDir, cacheDir] = process.argv.slice(2) as [string, string];
  const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: 2 });
  const { info, loaded } = await loadUpscaleModel(ctx.sessions, path.resolve(modelDir), cacheDir);
  const size = 2048;
  const planar = new Float32Array(3 * size * size);
  for (let i = 0; i < planar.length; i++) planar[i] = ((i * 2654435761) >>> 24) / 255;
  const before = process.resourceUsage().maxRSS / 1024;
  const timings = { runMs: 0, tiles: 0 };
  const rgb = await upscaleTiled(planar, size, size, { tile: 192, overlap: 16, scale: info.scale }, sessionTileRunner(info, (feeds) => loaded.session.run(feeds), timings));
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ peakMb, beforeMb: before, outputBytes: rgb.length, tiles: timings.tiles, scale: info.scale })}\n`);
  await ctx.resident.clear();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
