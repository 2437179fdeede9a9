/**
 * Music: real-time factor (seconds of audio per second of compute) of a music job through our stack
 * (oracle MusicGen fixture, greedy, guidance 3), and ours vs MusicgenForConditionalGeneration.generate
 * in-process with the same max_new_tokens / guidance / greedy settings.
 */
import { AutoTokenizer, MusicgenForConditionalGeneration } from '@huggingface/transformers';
import os from 'node:os';
import { framesFor, musicFacts } from '../src/engine/music/generate';
import type { MusicParams } from '../src/shared/params';
import { fixtures, header, median, openBenchStudio, runBench, runJob, table, timingsOf, verdict } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

runBench(async () => {
  header('music', `${SECONDS} s of audio, oracle MusicGen fixture, ${RUNS} runs each`);
  const fx = await fixtures();
  const dir = fx.musicOracle;
  const params: MusicParams = { model: dir, prompt: 'calm piano', seconds: SECONDS, guidance: 3, temperature: 0, topK: 250, variations: 1, format: 'pcm16' };

  const studio = await openBenchStudio();
  const wall: number[] = [];
  const engineGen: number[] = [];
  try {
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    await runJob(studio, { kind: 'music', params, priority: 0 }); // warm-up (model load)
    for (let i = 0; i < RUNS; i++) {
      const { job, wallMs } = await runJob(studio, { kind: 'music', params, priority: 0 });
      wall.push(wallMs);
      engineGen.push(timingsOf(studio, job).generateMs ?? Number.NaN);
    }
  } finally {
    await studio.close();
  }

  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const model = await MusicgenForConditionalGeneration.from_pretrained(dir, {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    session_options: { intraOpNumThreads: Math.max(1, os.availableParallelism()), logSeverityLevel: 3 },
  });
  const { maxNewTokens } = framesFor(SECONDS, musicFacts(model.config, dir));
  const raw: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t = performance.now();
    await model.generate({ ...tokenizer(params.prompt), max_new_tokens: maxNewTokens, do_sample: false, guidance_scale: 3, temperature: 1, top_k: 0 });
    if (i > 0) raw.push(performance.now() - t);
  }
  await model.dispose();

  table(`medians (ms), max_new_tokens ${maxNewTokens}`, ['path', 'ms', 'realtime factor (audio s / compute s)'], [
    ['raw generate() in-process', median(raw), SECONDS / (median(raw) / 1000)],
    ['ours: engine generateMs (generate + WAV + peaks)', median(engineGen), SECONDS / (median(engineGen) / 1000)],
    ['ours: job wall (enqueue → committed)', median(wall), SECONDS / (median(wall) / 1000)],
  ]);
  verdict({ name: 'music realtime factor via our stack', value: SECONDS / (median(wall) / 1000), target: 1, kind: 'min', unit: '×' });
  verdict({ name: 'music ours/raw', value: median(wall) / median(raw), target: 1.1, kind: 'max', unit: '×' });
});
