/**
 * Engine round trip: one whole image job through our stack (createStudio → queue → engine process
 * → reply → library commit) vs the same session.run calls made raw, in-process, on ort sessions.
 *
 * The only whole-job path is a generation job, so the fixture is the oracle image model with a
 * unet made heavy (a MatMul chain, one run ≈ 50 ms), at 64×64, 1 step, guidance 1 (no CFG): a job
 * is text_encoder + one ~50 ms unet run + vae_decoder. The raw baseline replays the exact feeds the
 * pipeline passed (recorded in-process) on fresh ort.InferenceSession objects with the engine's
 * session options. Ratio = median job wall time / median raw sum. Runs alternate ours/raw.
 *
 * Second measurement, the round trip proper: the engine's `run` request (IPC there and back, the
 * engine's dispatch) vs calling the same pipeline in-process on the same fixture.
 */
import { generateImage } from '../src/engine/image/pipeline';
import type { ImageParams } from '../src/shared/params';
import { buildHeavyImageFixture, rawReplayer, recordingSessions, type RecordedRun } from './heavy-fixture';
import { fixtures, header, inProcessContext, median, openBenchStudio, quantile, quietHooks, runBench, runJob, table, tempDir, timingsOf, verdict } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

runBench(async () => {
  header('engine-roundtrip', `whole image job via studio vs raw in-process session.run sum, and the engine's run round trip vs the same pipeline in-process; ${RUNS} runs each, alternating`);
  const fx = await fixtures();
  const heavy = await buildHeavyImageFixture(fx.images.imageOracle, 50);
  console.log(`fixture: oracle unet + ${heavy.matmuls}× MatMul ${heavy.size}×${heavy.size}; raw unet run ≈ ${heavy.unetMs.toFixed(1)} ms`);
  const params: ImageParams = { model: heavy.dir, prompt: 'a red castle', negativePrompt: '', width: 64, height: 64, steps: 1, guidance: 1, scheduler: 'euler', seed: 1, batch: 1, strength: 0.75 };

  // Record the exact feeds once, in-process.
  const log: RecordedRun[] = [];
  const ctx = inProcessContext();
  await generateImage(heavy.dir, params, { sessions: recordingSessions(ctx.sessions, log), hooks: quietHooks(), outDir: tempDir('rec') });
  const raw = await rawReplayer(log);
  await ctx.resident.clear();

  const studio = await openBenchStudio();
  try {
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    await runJob(studio, { kind: 'image', params, priority: 0 }); // warm-up: sessions load
    await raw.replay();
    const wall: number[] = [];
    const engineTotal: number[] = [];
    const engineRun: number[] = [];
    const rawSum: number[] = [];
    const rawUnet: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { job, wallMs } = await runJob(studio, { kind: 'image', params, priority: 0 });
      const t = timingsOf(studio, job);
      wall.push(wallMs);
      engineTotal.push(t.totalMs ?? Number.NaN);
      engineRun.push(t.sessionRunMs ?? Number.NaN);
      const r = await raw.replay();
      rawSum.push(r.totalMs);
      rawUnet.push(Math.max(...r.perRun));
    }
    await raw.release();
    const row = (name: string, v: number[]) => [name, median(v), quantile(v, 0.1), quantile(v, 0.9)];
    table(`per run (ms), ${log.length} session.run calls per job`, ['measure', 'median', 'p10', 'p90'], [
      row('raw: sum of session.run (in-process)', rawSum),
      row('raw: unet session.run alone', rawUnet),
      row('ours: engine sessionRunMs', engineRun),
      row('ours: engine pipeline totalMs', engineTotal),
      row('ours: job wall (enqueue→done+commit)', wall),
    ]);
    const m = median(wall);
    console.log(
      `breakdown of ours − raw (medians): in-engine session.run delta ${(median(engineRun) - median(rawSum)).toFixed(1)} ms, ` +
        `pipeline outside session.run ${(median(engineTotal) - median(engineRun)).toFixed(1)} ms, ` +
        `IPC + queue + commit ${(m - median(engineTotal)).toFixed(1)} ms`,
    );
    verdict({ name: 'whole job (queue + engine + outputs + library commit) / raw session.run sum', value: m / median(rawSum), target: 1.1, kind: 'max', unit: '×' });

    // The engine round trip proper: the same `run` request answered by the engine process vs the same
    // pipeline called in this process (same fixture, same outputs written): what the process
    // boundary costs, without the queue, the library commit, or the PNG work both sides do.
    const inProcess = inProcessContext();
    await generateImage(heavy.dir, params, { sessions: inProcess.sessions, hooks: quietHooks(), outDir: tempDir('inproc') });
    const viaEngine: number[] = [];
    const local: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      await studio.engine.request({ type: 'run', jobId: `bench-roundtrip-${i}`, modelDir: heavy.dir, outDir: tempDir('rt'), run: { kind: 'image', params } });
      viaEngine.push(performance.now() - t);
      t = performance.now();
      await generateImage(heavy.dir, params, { sessions: inProcess.sessions, hooks: quietHooks(), outDir: tempDir('inproc') });
      local.push(performance.now() - t);
    }
    await inProcess.resident.clear();
    table('engine round trip (ms): run request → reply vs the same pipeline in-process', ['measure', 'median', 'p10', 'p90'], [row('in-process generateImage', local), row('engine process: request → reply', viaEngine)]);
    verdict({ name: 'engine round trip / in-process (same pipeline, ≈ 50 ms model)', value: median(viaEngine) / median(local), target: 1.1, kind: 'max', unit: '×' });
  } finally {
    await studio.close();
  }
});
