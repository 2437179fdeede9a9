/**
 * Music: real-time factor (seconds of audio per second of compute) of a music job through our stack
 * (oracle MusicGen fixture, greedy, guidance 3), and ours vs MusicgenForConditionalGeneration.generate
 * in-process with the same max_new_tokens / guidance / greedy settings.
 *
 * The fixture's decoder takes ~0.1 ms per run, so fixed per-frame costs dominate that ratio; it is
 * measured a second time on a copy whose decoder_model_merged.onnx also runs a calibrated MatMul
 * side chain (bench/heavy-fixture.ts) of ≈ 10 ms per run, a realistic cost for a decoder step.
 */
import { AutoTokenizer, MusicgenForConditionalGeneration } from '@huggingface/transformers';
import os from 'node:os';
import { framesFor, musicFacts } from '../src/engine/music/generate';
import type { MusicParams } from '../src/shared/params';
import { buildHeavyMusicFixture } from './heavy-fixture';
import { fixtures, header, median, openBenchStudio, runBench, runJob, table, timingsOf, verdict } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

interface Ours {
  wall: number[];
  engineGen: number[];
}

/** transformers.js MusicgenForConditionalGeneration.generate in-process, RUNS timed after a warm-up. */
async function measureRaw(dir: string, prompt: string): Promise<{ raw: number[]; maxNewTokens: number }> {
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
    await model.generate({ ...tokenizer(prompt), max_new_tokens: maxNewTokens, do_sample: false, guidance_scale: 3, temperature: 1, top_k: 0 });
    if (i > 0) raw.push(performance.now() - t);
  }
  await model.dispose();
  return { raw, maxNewTokens };
}

runBench(async () => {
  header('music', `${SECONDS} s of audio, oracle MusicGen fixture, ${RUNS} runs each`);
  const fx = await fixtures();
  const dir = fx.musicOracle;
  const paramsFor = (model: string): MusicParams => ({ model, prompt: 'calm piano', seconds: SECONDS, guidance: 3, temperature: 0, topK: 250, variations: 1, format: 'pcm16' });
  const params = paramsFor(dir);
  // The same fixture whose merged decoder also runs a MatMul side chain (outside its If, depending on
  // input_ids, added ×0 to the logits: same codes), ≈ 10 ms per run like a real decoder step on
  // CPU: the fixed per-frame costs stop dominating the ratio.
  const heavy = await buildHeavyMusicFixture(dir, 10);

  const studio = await openBenchStudio();
  const measureOurs = async (p: MusicParams): Promise<Ours> => {
    const ours: Ours = { wall: [], engineGen: [] };
    await runJob(studio, { kind: 'music', params: p, priority: 0 }); // warm-up (model load)
    for (let i = 0; i < RUNS; i++) {
      const { job, wallMs } = await runJob(studio, { kind: 'music', params: p, priority: 0 });
      ours.wall.push(wallMs);
      ours.engineGen.push(timingsOf(studio, job).generateMs ?? Number.NaN);
    }
    return ours;
  };
  let ours: Ours;
  let oursHeavy: Ours;
  try {
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    ours = await measureOurs(params);
    oursHeavy = await measureOurs(paramsFor(heavy.dir));
  } finally {
    await studio.close();
  }

  const { raw, maxNewTokens } = await measureRaw(dir, params.prompt);
  const { raw: rawHeavy } = await measureRaw(heavy.dir, params.prompt);

  const { wall, engineGen } = ours;
  table(`medians (ms), max_new_tokens ${maxNewTokens}`, ['path', 'ms', 'realtime factor (audio s / compute s)'], [
    ['raw generate() in-process', median(raw), SECONDS / (median(raw) / 1000)],
    ['ours: engine generateMs (generate + WAV + peaks)', median(engineGen), SECONDS / (median(engineGen) / 1000)],
    ['ours: job wall (enqueue → committed)', median(wall), SECONDS / (median(wall) / 1000)],
  ]);
  verdict({ name: 'music realtime factor via our stack', value: SECONDS / (median(wall) / 1000), target: 1, kind: 'min', unit: '×' });
  verdict({ name: 'music ours/raw', value: median(wall) / median(raw), target: 1.1, kind: 'max', unit: '×' });

  table(
    `decoder + side chain (${heavy.matmuls} MatMuls of ${heavy.size}², ${heavy.runMs.toFixed(1)} ms per cached step calibrated vs ${heavy.baseMs.toFixed(2)} ms without), medians (ms)`,
    ['path', 'ms', 'per frame', 'realtime factor (audio s / compute s)'],
    [
      ['raw generate() in-process', median(rawHeavy), median(rawHeavy) / maxNewTokens, SECONDS / (median(rawHeavy) / 1000)],
      ['ours: engine generateMs (generate + WAV + peaks)', median(oursHeavy.engineGen), median(oursHeavy.engineGen) / maxNewTokens, SECONDS / (median(oursHeavy.engineGen) / 1000)],
      ['ours: job wall (enqueue → committed)', median(oursHeavy.wall), median(oursHeavy.wall) / maxNewTokens, SECONDS / (median(oursHeavy.wall) / 1000)],
    ],
  );
  // The decoder's cost as seen inside generate (calibration ran it alone, possibly under other load):
  // the chain's extra time per frame plus the tiny decoder's own run time.
  const decoderMs = (median(rawHeavy) - median(raw)) / maxNewTokens + heavy.baseMs;
  console.log(`decoder ≈ ${decoderMs.toFixed(1)} ms/run inside raw generate ((heavy − tiny raw) / ${maxNewTokens} frames + ${heavy.baseMs.toFixed(2)} ms); engine generateMs / raw ${(median(oursHeavy.engineGen) / median(rawHeavy)).toFixed(3)}×`);
  verdict({ name: `music ours/raw, decoder ≈ ${decoderMs.toFixed(0)} ms/run`, value: median(oursHeavy.wall) / median(rawHeavy), target: 1.1, kind: 'max', unit: '×' });
});
