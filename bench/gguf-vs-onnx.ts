/**
 * Text on the CPU: llama.cpp (GGUF F32, F16, Q8_0) vs transformers.js (ONNX fp32) on the same
 * random-weight shape — by default Qwen2.5-0.5B's (24 layers, hidden 896, 14 heads / 2 KV heads,
 * FFN 4864) — and our GGUF path (generateGgufText, as the engine runs it) vs node-llama-cpp raw
 * (LlamaCompletion on the same file, prompt, context size and threads; target ≤ 1.10).
 *
 * Method: both backends run in this process with the same threads (BENCH_THREADS, default 1: the
 * measured best on a shared 2-core machine), greedy, BENCH_TOKENS new tokens (default 32) from the
 * same short prompt; one warm-up run loads the model, then BENCH_RUNS runs are measured (median).
 * Time to first token = prompt processing + first token; tokens/s over the tokens after the first.
 *
 * Shapes are equal, architectures are not quite: the GGUF is a llama (RoPE, RMSNorm, SwiGLU with 3
 * FFN matrices), the ONNX graph is the fixtures' pre-LN transformer (learned positions, LayerNorm,
 * GELU with 2 FFN matrices), so its FFN is 1.5× wider to do the same multiply-adds per token. Both
 * vocabularies are the fixtures' (~360 tokens) instead of Qwen's 151,936: the embedding and output
 * rows (136 M of Qwen's 494 M parameters) are left out; the 24 transformer layers (358 M) are all
 * there. The ONNX q8/q4 variants are not written (transformers.js reads them from quantised ONNX
 * graphs, which the fixture builder does not produce).
 *
 * BENCH_SHAPE=small runs a 4-layer, 512-wide shape for a quick check.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTinyLlamaGguf, type GgufModelShape, type GgufWeightType } from '../scripts/fixtures/gguf';
import { saveModel } from '../scripts/fixtures/onnx';
import { buildTextGraph, textTokenizer } from '../scripts/fixtures/text';
import { generateGgufText, unloadGgufModels } from '../src/engine/gguf/generate';
import { loadNodeLlamaCpp } from '../src/engine/gguf/runtime';
import { createEngineContext } from '../src/engine/runtime/context';
import { generateText, unloadTextModels } from '../src/engine/text/generate';
import type { RunResult } from '../src/shared/engine-protocol';
import { TextParams } from '../src/shared/params';
import { fmt, header, median, quietHooks, runBench, table, tempDir, verdict } from './lib';

const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 32);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const PROMPT = 'The lighthouse keeper climbed the stairs and found a map of the sea, and the story of the ship';

const SHAPES: Record<string, GgufModelShape> = {
  qwen05: { embedding: 896, layers: 24, heads: 14, kvHeads: 2, feedForward: 4864, contextLength: 2048, seed: 5 },
  small: { embedding: 512, layers: 4, heads: 8, kvHeads: 2, feedForward: 1536, contextLength: 2048, seed: 5 },
};

interface Measured {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

/**
 * Warm-up (loads the model), then RUNS measured runs. Each run gets a prompt that differs from the
 * first token on, so no run reuses the KV cache of the one before (both GGUF paths would).
 */
const promptFor = (i: number) => `${['Once', 'The', 'A', 'In', 'After', 'When', 'Then', 'So'][i % 8]} ${PROMPT}`;

function summary(runs: Measured[]): Measured {
  return { ttftMs: median(runs.map((r) => r.ttftMs)), tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)), tokens: runs[0]!.tokens };
}

async function measure(run: (prompt: string) => Promise<Measured>): Promise<Measured> {
  await run(promptFor(0));
  const runs: Measured[] = [];
  for (let i = 1; i <= RUNS; i++) runs.push(await run(promptFor(i)));
  return summary(runs);
}

/** Both warmed up, then measured in turns: a, b, a, b, … */
async function measurePair(a: (prompt: string) => Promise<Measured>, b: (prompt: string) => Promise<Measured>): Promise<[Measured, Measured]> {
  await a(promptFor(0));
  await b(promptFor(0));
  const runsA: Measured[] = [];
  const runsB: Measured[] = [];
  for (let i = 1; i <= RUNS; i++) {
    runsA.push(await a(promptFor(i)));
    runsB.push(await b(promptFor(i)));
  }
  return [summary(runsA), summary(runsB)];
}

function fromResult(result: RunResult): Measured {
  return { ttftMs: result.timings['timeToFirstTokenMs'] ?? Number.NaN, tokensPerSecond: result.timings['tokensPerSecond'] ?? Number.NaN, tokens: result.tokens ?? 0 };
}

/** The fixtures' ONNX text graph at the bench shape, in the transformers.js layout. */
function writeOnnxModel(dir: string, shape: GgufModelShape): void {
  const tok = textTokenizer();
  const headDim = shape.embedding / shape.heads;
  const ffn = Math.round((shape.feedForward * 1.5) / 32) * 32;
  const graph = buildTextGraph({ vocab: tok.size, layers: shape.layers, heads: shape.heads, kvHeads: shape.kvHeads, headDim, ffn, maxPositions: shape.contextLength, seed: shape.seed });
  // Zero the output columns of the special tokens: greedy runs then reach the token limit, like the GGUF's.
  const head = graph.initializer?.find((t) => t.name === 'lm_head.weight');
  if (!head?.rawData) throw new Error('the ONNX graph has no lm_head.weight');
  const weights = new Float32Array(head.rawData.slice().buffer);
  for (let d = 0; d < shape.embedding; d++) for (const special of [0, 1, 2, 3]) weights[d * tok.size + special] = 0;
  head.rawData = new Uint8Array(weights.buffer);
  const json = (file: string, value: unknown) => writeFileSync(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  saveModel(path.join(dir, 'onnx', 'model.onnx'), graph, { externalData: true });
  json('config.json', {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: tok.size,
    hidden_size: shape.embedding,
    intermediate_size: ffn,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: headDim,
    max_position_embeddings: shape.contextLength,
    bos_token_id: 0,
    eos_token_id: 0,
    torch_dtype: 'float32',
  });
  json('generation_config.json', { bos_token_id: 0, eos_token_id: 0, pad_token_id: 0, do_sample: false });
  json('tokenizer.json', tok.json);
  json('tokenizer_config.json', { add_bos_token: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<unk>', model_max_length: shape.contextLength, tokenizer_class: 'GPT2Tokenizer' });
}

runBench(async () => {
  const shapeName = process.env.BENCH_SHAPE ?? 'qwen05';
  const shape = SHAPES[shapeName];
  if (!shape) throw new Error(`BENCH_SHAPE must be one of ${Object.keys(SHAPES).join(', ')}`);
  header('gguf-vs-onnx', `greedy, ${TOKENS} new tokens, ${THREADS} thread(s), shape ${shapeName} (${shape.layers} layers, hidden ${shape.embedding}, FFN ${shape.feedForward}, ${shape.heads}/${shape.kvHeads} heads), median of ${RUNS} after a warm-up`);
  // The models are written once per shape (minutes at the default shape) and kept, git-ignored.
  const cache = path.join(__dirname, '..', '.cache', 'bench', `gguf-vs-onnx-${shapeName}-v1`);
  mkdirSync(cache, { recursive: true });
  const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: THREADS });
  const params = TextParams.parse({ model: 'bench', prompt: PROMPT, temperature: 0, repetitionPenalty: 1, maxNewTokens: TOKENS });
  const rows: (string | number)[][] = [];
  const ratios: { weights: string; ratio: number }[] = [];

  // node-llama-cpp is an ES module with top-level await: imported dynamically, as the engine does.
  const { getLlama, LlamaCompletion } = await loadNodeLlamaCpp();
  const llama = await getLlama({ gpu: false, build: 'never' });
  for (const weights of ['f32', 'f16', 'q8_0'] as GgufWeightType[]) {
    const file = path.join(cache, `bench-${weights}.gguf`);
    if (!existsSync(file)) {
      const t = performance.now();
      writeFileSync(`${file}.tmp`, buildTinyLlamaGguf(shape, weights));
      renameSync(`${file}.tmp`, file);
      console.log(`wrote ${path.basename(file)} in ${fmt((performance.now() - t) / 1000)} s`);
    }
    const bytes = { length: statSync(file).size };

    // Ours and raw alternate run by run (same prompts), so a burst of load from other work on a
    // shared machine hits both rather than one of them.
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createContext({ contextSize: Math.min(model.trainContextSize, 4096), threads: THREADS });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const runRaw = async (prompt: string): Promise<Measured> => {
      const times: number[] = [];
      const started = performance.now();
      await completion.generateCompletion(prompt, { temperature: 0, maxTokens: TOKENS, repeatPenalty: false, onToken: () => times.push(performance.now()) });
      return { ttftMs: times[0]! - started, tokensPerSecond: (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000), tokens: times.length };
    };
    const runOurs = async (prompt: string): Promise<Measured> => fromResult(await generateGgufText(file, { ...params, prompt }, { ctx, hooks: quietHooks(), outDir: tempDir('out') }));
    const [ours, raw] = await measurePair(runOurs, runRaw);
    completion.dispose();
    await context.dispose();
    await model.dispose();
    await unloadGgufModels(ctx);

    rows.push([`GGUF ${weights} (llama.cpp, ours)`, fmt(bytes.length / 1e6, 0), ours.ttftMs, ours.tokensPerSecond, ours.tokens], [`GGUF ${weights} (node-llama-cpp raw)`, fmt(bytes.length / 1e6, 0), raw.ttftMs, raw.tokensPerSecond, raw.tokens]);
    ratios.push({ weights, ratio: raw.tokensPerSecond / ours.tokensPerSecond });
  }

  const onnxDir = path.join(cache, 'onnx-fp32');
  if (!existsSync(path.join(onnxDir, 'tokenizer_config.json'))) {
    const t = performance.now();
    rmSync(onnxDir, { recursive: true, force: true });
    writeOnnxModel(onnxDir, shape);
    console.log(`wrote the ONNX fp32 model in ${fmt((performance.now() - t) / 1000)} s`);
  }
  const onnx = await measure(async (prompt) => fromResult(await generateText(onnxDir, { ...params, prompt }, { ctx, hooks: quietHooks(), outDir: tempDir('out') })));
  await unloadTextModels(ctx);
  rows.push(['ONNX fp32 (transformers.js, ours)', '', onnx.ttftMs, onnx.tokensPerSecond, onnx.tokens]);

  table('CPU text generation', ['backend', 'MB', 'first token ms', 'tokens/s', 'tokens'], rows);
  for (const { weights, ratio } of ratios) verdict({ name: `GGUF ${weights}: per-token time ours / node-llama-cpp raw`, value: ratio, target: 1.1, kind: 'max', unit: '×' });
  const f32 = rows.find((r) => r[0] === 'GGUF f32 (llama.cpp, ours)');
  if (f32) console.log(`llama.cpp F32 vs transformers.js fp32, tokens/s: ${fmt(Number(f32[3]) / onnx.tokensPerSecond, 2)}×`);
});
