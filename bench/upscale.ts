/**
 * Upscale overhead: wall time of a tiled upscale vs the sum of its tiles' session.run calls.
 *
 * 1. In-process `upscaleImage` (the engine's code, this process): a 1024×1024 photograph ×2
 *    with esrgan-slim (tile 192, overlap 16). total = load (cached session) + decode + tiles +
 *    alpha + PNG + thumbnail + write; tiles = the tile loop alone. Ratios against sessionRunMs.
 * 2. The same as a job through the studio (engine process, queue, library commit): job wall time
 *    vs the engine's sessionRunMs.
 * 3. Peak memory (maxRSS of this process) of a ×4 upscale from 2048×2048 (8192×8192 out) with
 *    esrgan-slim; opt-in (BENCH_UPSCALE_BIG=1: about a minute of CPU) since it dominates the run.
 * The converted model is made once (first run) and cached, as in the app.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { upscaleImage } from '../src/engine/upscale/upscale';
import { bundledUpscalerDir } from '../src/main/upscale/bundled';
import { findBundledUpscaler, UpscaleParams } from '../src/shared/upscale';
import { cleanupTempDirs, fmt, header, inProcessContext, openBenchStudio, quietHooks, runJob, table, tempDir, timingsOf, verdict } from './lib';

const ROOT = path.resolve(__dirname, '..');
const PHOTO = path.join(ROOT, 'tests/fixtures/photos/coffee.png');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function photoAt(size: number, dir: string): Promise<string> {
  const file = path.join(dir, `photo-${size}.png`);
  writeFileSync(file, await sharp(PHOTO).resize(size, size, { fit: 'cover', kernel: 'cubic' }).png().toBuffer());
  return file;
}

async function main(): Promise<void> {
  header('upscale', 'tiled upscale wall time vs the sum of the tiles\' session.run (ratio), and peak memory');
  const work = tempDir('upscale');
  const cacheDir = path.join(work, 'converted');
  const slim2 = findBundledUpscaler('esrgan-slim-x2')!;
  const dir = bundledUpscalerDir(slim2, ROOT)!;
  const ctx = inProcessContext();
  const source = await photoAt(1024, work);
  const params = UpscaleParams.parse({ mode: 'upscale', model: slim2.id, tile: 192, overlap: 16 });

  // Warm-up: conversion into the cache and session creation happen once, as on a user's first upscale.
  await upscaleImage(dir, params, { sessions: ctx.sessions, hooks: quietHooks(), outDir: tempDir('warm'), cacheDir, sourcePath: await photoAt(64, work) });
  const rows: (string | number)[][] = [];
  const totals: number[] = [];
  const tileLoops: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await upscaleImage(dir, params, { sessions: ctx.sessions, hooks: quietHooks(), outDir: tempDir('out'), cacheDir, sourcePath: source });
    const wall = performance.now() - t0;
    const t = r.timings;
    rows.push([`run ${i + 1}`, wall, t.tilesMs!, t.sessionRunMs!, t.tiles!, t.outputMs!, wall / t.sessionRunMs!, t.tilesMs! / t.sessionRunMs!]);
    totals.push(wall / t.sessionRunMs!);
    tileLoops.push(t.tilesMs! / t.sessionRunMs!);
  }
  table('1024² ×2 esrgan-slim, tile 192 / overlap 16, in-process (ms)', ['run', 'wall', 'tile loop', 'Σ session.run', 'tiles', 'PNG+thumb', 'wall/run', 'loop/run'], rows);
  const best = Math.min(...totals);
  verdict({ name: 'upscale wall / Σ session.run (in-process, best of runs)', value: best, target: 1.1, kind: 'max', unit: '×' });
  verdict({ name: 'upscale tile loop / Σ session.run', value: Math.min(...tileLoops), target: 1.1, kind: 'max', unit: '×' });
  await ctx.resident.clear();

  // The same through the studio: an image job in upscale mode, committed to a library.
  const studio = await openBenchStudio();
  try {
    const imported = await studio.library.commitGeneration({ kind: 'image', model: 'import', prompt: 'bench photo', params: { source: 'import' }, files: [{ sourcePath: await photoAt(1024, work), mime: 'image/png', role: 'image' }] });
    const request = { kind: 'image' as const, params: { ...params, sourceAssetId: imported.assets[0]!.id }, parentId: imported.id, priority: 0 };
    await runJob(studio, request); // conversion + session
    const { job, wallMs } = await runJob(studio, request);
    const t = timingsOf(studio, job);
    table('the same as a studio job (ms)', ['', 'job wall', 'engine total', 'Σ session.run', 'job/run'], [['job', wallMs, t.totalMs!, t.sessionRunMs!, wallMs / t.sessionRunMs!]]);
    verdict({ name: 'upscale job wall / Σ session.run (engine process + commit)', value: wallMs / t.sessionRunMs!, target: 1.1, kind: 'max', unit: '×' });
  } finally {
    await studio.close();
  }

  if (process.env.BENCH_UPSCALE_BIG === '1') {
    const slim4 = findBundledUpscaler('esrgan-slim-x4')!;
    const big = await photoAt(2048, work);
    const bigCtx = inProcessContext();
    const t0 = performance.now();
    const r = await upscaleImage(bundledUpscalerDir(slim4, ROOT)!, UpscaleParams.parse({ mode: 'upscale', model: slim4.id, tile: 192, overlap: 16 }), { sessions: bigCtx.sessions, hooks: quietHooks(), outDir: tempDir('big'), cacheDir, sourcePath: big, thumbnails: false });
    const peakMb = process.resourceUsage().maxRSS / 1024;
    console.log(`\n2048² ×4 → 8192²: ${fmt((performance.now() - t0) / 1000)} s, ${r.timings.tiles} tiles, peak RSS ${fmt(peakMb, 0)} MB`);
    verdict({ name: 'upscale 2048² ×4 peak RSS', value: peakMb, target: 2048, kind: 'max', unit: ' MB' });
  }
  cleanupTempDirs();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
