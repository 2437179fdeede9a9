/**
 * Text: per-token cost of our stack (a text job through createStudio → queue → engine process,
 * token events) vs transformers.js generate() in-process on the same fixture (gpt2, random
 * weights, greedy, maxNewTokens 100, repetition penalty 1), and the delay from a token produced in
 * the engine to its event in main and at a WebSocket client (startBrowserServer + ws).
 *
 * Method: the engine does not stamp tokens, so the studio here spawns bench/stamped-engine.ts (the
 * real EngineServer + pipelines, each outgoing message stamped with the sender's
 * performance.timeOrigin + now(); both processes read the same system clock, sub-ms). A token's
 * "produced" time is its stamp (onToken → send, synchronous in the streamer callback); arrival in
 * main is the fork 'message' event; "visible" is the ws client's 'message' (JSON parsed) for the
 * jobs.token event with the same token count. Per-token time = (last − first token time) / (n − 1)
 * from arrival times (ours, at the ws client) and from streamer callback times (raw, in-process).
 *
 * The fixture's forward pass takes ~0.15 ms, so fixed per-token costs dominate that ratio; the same
 * is measured a second time on a copy whose model also runs a calibrated MatMul side chain
 * (bench/heavy-fixture.ts: depends on input_ids, added ×0 to the logits, so the tokens are the same)
 * of ≈ 10 ms per forward pass, a realistic cost for a small model on CPU.
 */
import { AutoModelForCausalLM, AutoTokenizer, TextStreamer } from '@huggingface/transformers';
import os from 'node:os';
import WebSocket from 'ws';
import { startBrowserServer } from '../src/main/transport/ws-server';
import { createStudio } from '../src/main/studio';
import type { TextParams } from '../src/shared/params';
import { buildHeavyTextFixture } from './heavy-fixture';
import { fixtures, header, median, quantile, runBench, table, tempDir, verdict } from './lib';
import { spawnStampedEngine, wallNow } from './stamped-spawn';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MAX_NEW = 100;

interface Ours {
  tokens: number;
  /** per-token ms from arrival times at the ws client */
  perToken: number[];
  /** per-token ms from the engine's send stamps */
  enginePerToken: number[];
  wall: number[];
  toMain: number[];
  toClient: number[];
}

interface Raw {
  tokens: number;
  perToken: number[];
  wall: number[];
}

/** transformers.js generate() in-process on `model`; per-token time from streamer callback times. */
async function measureRaw(model: string, prompt: string): Promise<Raw> {
  const tokenizer = await AutoTokenizer.from_pretrained(model, { local_files_only: true });
  const lm = await AutoModelForCausalLM.from_pretrained(model, {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    session_options: { intraOpNumThreads: Math.max(1, os.availableParallelism()), logSeverityLevel: 3 },
  });
  const raw: Raw = { tokens: 0, perToken: [], wall: [] };
  for (let i = 0; i <= RUNS; i++) {
    const stamps: number[] = [];
    const streamer = new TextStreamer(tokenizer, { skip_prompt: true, token_callback_function: () => void stamps.push(performance.now()), callback_function: () => undefined });
    const inputs = tokenizer(prompt);
    const t = performance.now();
    await lm.generate({ ...inputs, max_new_tokens: MAX_NEW, do_sample: false, temperature: 1, top_k: 0, repetition_penalty: 1, streamer });
    const wall = performance.now() - t;
    if (i === 0) continue;
    raw.tokens = stamps.length;
    if (stamps.length > 1) raw.perToken.push((stamps.at(-1)! - stamps[0]!) / (stamps.length - 1));
    raw.wall.push(wall);
  }
  await lm.dispose();
  return raw;
}

runBench(async () => {
  header('text-overhead', `text job (${MAX_NEW} new tokens, greedy) via studio + WebSocket vs transformers.js generate in-process; ${RUNS} runs each`);
  const fx = await fixtures();
  const model = fx.textGpt2;
  const prompt = 'a map'; // this random-weight gpt2 reaches EOS after ~7 tokens from longer prompts; 'a map' gives 100
  // The same gpt2 whose forward pass also runs a MatMul side chain (results unchanged), ≈ 10 ms per
  // token like a real small model on CPU: the fixed per-token costs stop dominating the ratio.
  const heavy = await buildHeavyTextFixture(model, 10);

  // ---- ours ----
  const sent = new Map<number, number>(); // token count → engine send stamp
  const inMain = new Map<number, number>(); // token count → arrival in main
  const studio = await createStudio({
    dataDir: tempDir('text'),
    mode: 'cli',
    spawnEngine: () =>
      spawnStampedEngine((message, arrivedAt) => {
        if (message.type === 'token' && message.benchSentAt !== undefined) {
          sent.set(message.tokens, message.benchSentAt);
          inMain.set(message.tokens, arrivedAt);
        }
      }),
  });
  const server = await startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { Authorization: `Bearer ${server.token}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const atClient = new Map<number, number>();
  ws.on('message', (data: WebSocket.RawData) => {
    const at = wallNow();
    const message = JSON.parse(data.toString()) as { event?: string; payload?: { tokens?: number } };
    if (message.event === 'jobs.token' && typeof message.payload?.tokens === 'number') atClient.set(message.payload.tokens, at);
  });

  /** RUNS text jobs on `dir` (after one warm-up that loads the model) through studio + ws. */
  const measureOurs = async (dir: string): Promise<Ours> => {
    const params: TextParams = { model: dir, prompt, action: 'continue', maxNewTokens: MAX_NEW, temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };
    const ours: Ours = { tokens: 0, perToken: [], enginePerToken: [], wall: [], toMain: [], toClient: [] };
    for (let i = 0; i <= RUNS; i++) {
      sent.clear();
      inMain.clear();
      atClient.clear();
      const t = performance.now();
      const job = await studio.queue.waitFor(studio.queue.enqueue({ kind: 'text', params, priority: 0 }).id);
      const wall = performance.now() - t;
      if (job.state !== 'done') throw new Error(`text job ${job.state}: ${job.error?.message ?? ''}`);
      await new Promise((r) => setTimeout(r, 50)); // let the last ws frames land
      if (i === 0) continue; // warm-up (model load)
      const counts = [...atClient.keys()].sort((a, b) => a - b);
      ours.tokens = counts.at(-1) ?? 0;
      if (counts.length > 1) ours.perToken.push((atClient.get(counts.at(-1)!)! - atClient.get(counts[0]!)!) / (counts.at(-1)! - counts[0]!));
      ours.wall.push(wall);
      const sentCounts = [...sent.keys()].sort((a, b) => a - b);
      if (sentCounts.length > 1) ours.enginePerToken.push((sent.get(sentCounts.at(-1)!)! - sent.get(sentCounts[0]!)!) / (sentCounts.at(-1)! - sentCounts[0]!));
      for (const [n, s] of sent) {
        const m = inMain.get(n);
        const c = atClient.get(n);
        if (m !== undefined) ours.toMain.push(m - s);
        if (c !== undefined) ours.toClient.push(c - s);
      }
    }
    return ours;
  };

  let ours: Ours;
  let oursHeavy: Ours;
  try {
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    ours = await measureOurs(model);
    oursHeavy = await measureOurs(heavy.dir);
  } finally {
    ws.close();
    await server.close();
    await studio.close();
  }

  // ---- raw transformers.js, in-process ----
  const raw = await measureRaw(model, prompt);
  const rawHeavy = await measureRaw(heavy.dir, prompt);

  const { toMain, toClient } = ours;
  table('per run (medians, ms)', ['path', 'tokens', 'per token', 'generate / job wall'], [
    ['raw transformers.js generate (in-process)', raw.tokens, median(raw.perToken).toFixed(3), median(raw.wall)],
    ['ours: job via studio, times at ws client', ours.tokens, median(ours.perToken).toFixed(3), median(ours.wall)],
    ['ours: the same, times the engine sent them', ours.tokens, median(ours.enginePerToken).toFixed(3), ''],
  ]);
  table('token produced in engine → arrival (ms)', ['hop', 'n', 'median', 'p95', 'max'], [
    ['engine → main (fork IPC)', toMain.length, median(toMain), quantile(toMain, 0.95), Math.max(...toMain)],
    ['engine → ws client (main + WebSocket)', toClient.length, median(toClient), quantile(toClient, 0.95), Math.max(...toClient)],
  ]);
  console.log(`job wall / raw generate wall: ${(median(ours.wall) / median(raw.wall)).toFixed(3)}× (includes enqueue, prompt build, IPC, text file + commit)`);
  verdict({ name: 'text per-token ours/raw', value: median(ours.perToken) / median(raw.perToken), target: 1.2, kind: 'max', unit: '×' });
  verdict({ name: 'token → ws client median', value: median(toClient), target: 30, kind: 'max', unit: ' ms' });

  const modelMs = median(rawHeavy.perToken);
  table(
    `gpt2 + side chain (${heavy.matmuls} MatMuls of ${heavy.size}², forward ${heavy.runMs.toFixed(1)} ms calibrated vs ${heavy.baseMs.toFixed(2)} ms without), per run (medians, ms)`,
    ['path', 'tokens', 'per token', 'generate / job wall'],
    [
      ['raw transformers.js generate (in-process)', rawHeavy.tokens, median(rawHeavy.perToken).toFixed(3), median(rawHeavy.wall)],
      ['ours: job via studio, times at ws client', oursHeavy.tokens, median(oursHeavy.perToken).toFixed(3), median(oursHeavy.wall)],
      ['ours: the same, times the engine sent them', oursHeavy.tokens, median(oursHeavy.enginePerToken).toFixed(3), ''],
    ],
  );
  console.log(
    `model ≈ ${modelMs.toFixed(1)} ms/token: engine send stamps / raw ${(median(oursHeavy.enginePerToken) / modelMs).toFixed(3)}×; job wall / raw generate wall ${(median(oursHeavy.wall) / median(rawHeavy.wall)).toFixed(3)}×; token → ws client median ${median(oursHeavy.toClient).toFixed(1)} ms`,
  );
  verdict({ name: `text per-token ours/raw, model ≈ ${modelMs.toFixed(0)} ms/token`, value: median(oursHeavy.perToken) / modelMs, target: 1.2, kind: 'max', unit: '×' });
});
