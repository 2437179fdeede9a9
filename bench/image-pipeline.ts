/**
 * The whole generateImage pipeline (oracle fixture, 512×512, 20 steps, euler, guidance 7, previews
 * on as the engine runs it) vs the sum of its session.run times (timings.sessionRunMs), in-process.
 * Also: the same feeds replayed on raw ort sessions, variants without previews / thumbnails to
 * locate the overhead, and peak RSS.
 */
import { oraclePicture } from '../scripts/fixtures/image-oracle';
import { generateImage } from '../src/engine/image/pipeline';
import { encodePng } from '../src/engine/media/png';
import type { RunHooks } from '../src/shared/engine-protocol';
import type { ImageParams } from '../src/shared/params';
import { buildHeavyImageFixture, rawReplayer, recordingSessions, type RecordedRun } from './heavy-fixture';
import { fixtures, header, inProcessContext, median, runBench, table, tempDir, verdict } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

runBench(async () => {
  header('image-pipeline', `generateImage 512×512 / 20 steps / euler (oracle fixture), ${RUNS} runs per variant, in-process`);
  const fx = await fixtures();
  const params: ImageParams = { model: 'oracle', prompt: 'a red castle in the forest', negativePrompt: 'blurry', width: 512, height: 512, steps: 20, guidance: 7, scheduler: 'euler', seed: 5, batch: 1, strength: 0.75 };
  const ctx = inProcessContext();
  const hooks = (previews: boolean): RunHooks => ({ signal: new AbortController().signal, onProgress: () => undefined, ...(previews ? { onPreview: () => undefined } : {}) });

  const log: RecordedRun[] = [];
  await generateImage(fx.images.imageOracle, params, { sessions: recordingSessions(ctx.sessions, log), hooks: hooks(true), outDir: tempDir('img-rec') });
  const raw = await rawReplayer(log);
  await raw.replay();

  const variants: { name: string; previews: boolean; thumbnails: boolean }[] = [
    { name: 'as the engine runs it (previews + thumbnail)', previews: true, thumbnails: true },
    { name: 'no latent previews', previews: false, thumbnails: true },
    { name: 'no previews, no thumbnail', previews: false, thumbnails: false },
  ];
  const rows: (string | number)[][] = [];
  let mainRatio = Number.NaN;
  let withoutOutput = Number.NaN;
  let withoutOutputAndPreviews = Number.NaN;
  const rawTotals: number[] = [];
  for (const v of variants) {
    const total: number[] = [];
    const runMs: number[] = [];
    const denoise: number[] = [];
    const decode: number[] = [];
    const output: number[] = [];
    const preview: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await generateImage(fx.images.imageOracle, params, { sessions: ctx.sessions, hooks: hooks(v.previews), outDir: tempDir('img'), thumbnails: v.thumbnails });
      total.push(r.timings.totalMs!);
      runMs.push(r.timings.sessionRunMs!);
      denoise.push(r.timings.denoiseMs!);
      decode.push(r.timings.decodeMs!);
      output.push(r.timings.outputMs ?? 0);
      preview.push(r.timings.previewMs ?? 0);
      rawTotals.push((await raw.replay()).totalMs);
    }
    const ratio = median(total) / median(runMs);
    if (Number.isNaN(mainRatio)) mainRatio = ratio;
    rows.push([v.name, median(total), median(runMs), median(denoise), median(decode), median(output), median(preview), median(total) - median(denoise) - median(decode), ratio]);
    if (v.previews && v.thumbnails) {
      withoutOutput = median(total.map((t, k) => t - output[k]!)) / median(runMs);
      withoutOutputAndPreviews = median(total.map((t, k) => t - output[k]! - preview[k]!)) / median(runMs);
    }
  }
  await raw.release();
  table(`medians (ms); ${log.length} session.run calls per image`, ['variant', 'totalMs', 'sessionRunMs', 'denoiseMs', 'decodeMs', 'outputMs (pixels+PNG+thumb+write)', 'previewMs', 'rest (text enc, PNG, thumb, setup)', 'total/run'], rows);
  console.log(`raw replay of the same ${log.length} runs on plain ort sessions: median ${median(rawTotals).toFixed(1)} ms`);
  const picture = oraclePicture(512, 512);
  const png: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    encodePng(picture, 512, 512, 3);
    png.push(performance.now() - t);
  }
  console.log(`encodePng (JS encoder, now used for previews only) 512×512 RGB alone (adaptive filter + zlib level 6): median ${median(png).toFixed(1)} ms`);
  console.log(`pipeline minus output encoding (pixels + PNG + thumbnail + write) vs session.run: ${withoutOutput.toFixed(2)}×; also minus previews: ${withoutOutputAndPreviews.toFixed(2)}×`);
  console.log(`peak RSS (maxRSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  verdict({ name: 'image pipeline total/sessionRun, tiny oracle unet (~1.5 ms/run: fixed costs dominate)', value: mainRatio, target: 1.1, kind: 'max', unit: '×' });

  // The same pipeline on a unet with a realistic cost per run (the oracle plus a calibrated MatMul
  // chain, ≈ 50 ms per run here; a real SD 1.5 unet takes longer): this is the overhead a user sees.
  const heavy = await buildHeavyImageFixture(fx.images.imageOracle, 50);
  const heavyTotal: number[] = [];
  const heavyRun: number[] = [];
  for (let i = 0; i < Math.max(2, Math.min(RUNS, 3)); i++) {
    const r = await generateImage(heavy.dir, params, { sessions: ctx.sessions, hooks: hooks(true), outDir: tempDir('img-heavy') });
    heavyTotal.push(r.timings.totalMs!);
    heavyRun.push(r.timings.sessionRunMs!);
  }
  table(`unet ≈ ${heavy.unetMs.toFixed(0)} ms/run (${heavy.matmuls} MatMuls of ${heavy.size}²), 512×512, 20 steps, previews + thumbnail`, ['totalMs', 'sessionRunMs', 'total/run'], [
    [median(heavyTotal), median(heavyRun), median(heavyTotal) / median(heavyRun)],
  ]);
  verdict({ name: `image pipeline total/sessionRun, unet ≈ ${heavy.unetMs.toFixed(0)} ms/run (calibrated toward 50 ms)`, value: median(heavyTotal) / median(heavyRun), target: 1.1, kind: 'max', unit: '×' });
});
