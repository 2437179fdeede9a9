/**
 * Main-thread event-loop delay (monitorEventLoopDelay, resolution 1 ms) while a long image job runs
 * in the engine process, vs the same pipeline run in THIS process (why the engine process exists).
 * Job: heavy-unet oracle fixture (one unet run ≈ 50 ms), 512×512, 30 steps, guidance 7, euler,
 * with latent previews (the engine always sends them). A jobs.* event subscriber stands in for the
 * renderer binding so events are really dispatched.
 */
import { generateImage } from '../src/engine/image/pipeline';
import type { RunHooks } from '../src/shared/engine-protocol';
import type { ImageParams } from '../src/shared/params';
import { buildHeavyImageFixture } from './heavy-fixture';
import { eventLoopMonitor, fixtures, header, inProcessContext, nsToMs, openBenchStudio, runBench, runJob, table, tempDir, verdict } from './lib';

const STEPS = Number(process.env.BENCH_STEPS ?? 30);

runBench(async () => {
  header('event-loop', `main-thread event-loop delay during a ${STEPS}-step 512×512 image job`);
  const fx = await fixtures();
  const heavy = await buildHeavyImageFixture(fx.images.imageOracle, 50);
  console.log(`fixture: oracle unet + ${heavy.matmuls}× MatMul ${heavy.size}²; unet run ≈ ${heavy.unetMs.toFixed(1)} ms`);
  const params: ImageParams = { model: heavy.dir, prompt: 'a lighthouse at night', negativePrompt: '', width: 512, height: 512, steps: STEPS, guidance: 7, scheduler: 'euler', seed: 3, batch: 1, strength: 0.75 };
  const rows: (string | number)[][] = [];

  // Ours: the job in the engine process.
  const studio = await openBenchStudio();
  let oursP99 = Number.NaN;
  try {
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    let events = 0;
    const off = studio.events.subscribe(() => void events++);
    await runJob(studio, { kind: 'image', params: { ...params, steps: 1 }, priority: 0 }); // warm-up
    const h = eventLoopMonitor();
    const { wallMs } = await runJob(studio, { kind: 'image', params, priority: 0 });
    h.disable();
    off();
    oursP99 = nsToMs(h.percentile(99));
    rows.push(['engine process (ours)', wallMs, nsToMs(h.percentile(50)), oursP99, nsToMs(h.max), events]);
  } finally {
    await studio.close();
  }

  // Same pipeline in the main thread.
  const ctx = inProcessContext();
  let previews = 0;
  const hooks: RunHooks = { signal: new AbortController().signal, onProgress: () => undefined, onPreview: () => void previews++ };
  await generateImage(heavy.dir, { ...params, steps: 1 }, { sessions: ctx.sessions, hooks, outDir: tempDir('el-warm') });
  const h = eventLoopMonitor();
  const t = performance.now();
  await generateImage(heavy.dir, params, { sessions: ctx.sessions, hooks, outDir: tempDir('el') });
  const wall = performance.now() - t;
  h.disable();
  rows.push(['in-process (main thread)', wall, nsToMs(h.percentile(50)), nsToMs(h.percentile(99)), nsToMs(h.max), previews]);

  table('event-loop delay (ms)', ['where the job runs', 'job wall', 'p50', 'p99', 'max', 'events'], rows);
  verdict({ name: 'event-loop p99 with the job in the engine', value: oursP99, target: 20, kind: 'max', unit: ' ms' });
});
