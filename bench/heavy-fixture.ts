/**
 * Realistically slow copies of the tiny fixtures: writeHeavyModel adds to any model a chain of K
 * dense MatMuls (N×N) that depends on one of its inputs (so nothing is constant-folded), added to one
 * output as ·0: the results are unchanged, one session.run costs whatever K and N make it.
 * calibrateHeavyModel picks K for a target ms per run; built on it: the image oracle's unet (~50 ms),
 * gpt2's forward pass and MusicGen's merged decoder (~10 ms).
 * Also: recording of the exact feeds a pipeline passes to session.run, and their replay on raw
 * ort.InferenceSession objects (the baseline).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { copyModelDir } from '../scripts/fixtures/image';
import { decodeModel, encodeModel, floatTensor, rng, type IGraphProto, type INodeProto, type ITensorProto } from '../scripts/fixtures/onnx';
import type { LoadedSession, SessionSource } from '../src/engine/runtime/types';
import { median, tempDir } from './lib';

function n(opType: string, inputs: string[], outputs: string[], attrs: INodeProto['attribute'] = []): INodeProto {
  return { opType, input: inputs, output: outputs, name: `bench_${outputs[0]}`, attribute: attrs };
}

/** What {@link writeHeavyModel} adds to a graph. */
export interface SideChain {
  /** The graph output that gets `+ 0·chain` (its producer is renamed, an Add restores the name). */
  output: string;
  /** The graph input the chain depends on (int inputs such as input_ids are Cast to float first). */
  input: string;
  /** N: each MatMul is N×N · N×N. */
  size: number;
  /** K: the number of chained MatMuls. */
  matmuls: number;
  /**
   * Weights are uniform in ±range. Default √(3/N): variance 1/N, so the chain's values keep their
   * magnitude over hundreds of MatMuls (with ±1/√N they shrink ×0.58 per MatMul and reach
   * denormals after ~150, whose cost depends on the CPU).
   */
  range?: number;
}

const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]); // uint8 … int64, uint32, uint64 (TensorProto.DataType)

/**
 * Writes `dest` = the model at `source` + a K×(N×N MatMul) side chain that depends on the graph
 * input `chain.input` (ReduceMean of it, added to the weight: nothing can be constant-folded) and is
 * added to the graph output `chain.output` multiplied by 0 (the model's results are unchanged).
 * The chain sits in the top-level graph, so a model whose body is inside an If (merged decoders)
 * runs it on every call, whichever branch is taken, as long as `chain.input` is fed every call.
 */
export function writeHeavyModel(source: string, dest: string, chain: SideChain): void {
  const model = decodeModel(readFileSync(source));
  const g = model.graph as IGraphProto;
  const { output, input, size, matmuls } = chain;
  const range = chain.range ?? Math.sqrt(3 / size);
  const graphInput = (g.input ?? []).find((x) => x.name === input);
  if (!graphInput) throw new Error(`${source}: no graph input ${input}`);
  const nodes = [...(g.node ?? [])];
  const producer = nodes.find((x) => (x.output ?? []).includes(output));
  if (!producer) throw new Error(`${source}: no producer of ${output}`);
  producer.output = (producer.output ?? []).map((o) => (o === output ? 'bench_core' : o));
  const r = rng(7);
  const w = r.uniforms(size * size, -range, range);
  const inits: ITensorProto[] = [
    { ...floatTensor([size, size], w), name: 'bench_w' },
    { ...floatTensor([], [0]), name: 'bench_zero' },
  ];
  let source0 = input;
  if (INT_TYPES.has(graphInput.type?.tensorType?.elemType ?? 1)) {
    nodes.push(n('Cast', [input], ['bench_in'], [{ name: 'to', type: 2, i: 1 }])); // → float
    source0 = 'bench_in';
  }
  nodes.push(n('ReduceMean', [source0], ['bench_s'], [{ name: 'keepdims', type: 2, i: 0 }]));
  nodes.push(n('Add', ['bench_w', 'bench_s'], ['bench_a0']));
  let prev = 'bench_a0';
  for (let k = 0; k < matmuls; k++) {
    nodes.push(n('MatMul', [prev, 'bench_w'], [`bench_m${k}`]));
    prev = `bench_m${k}`;
  }
  nodes.push(n('ReduceMean', [prev], ['bench_r'], [{ name: 'keepdims', type: 2, i: 0 }]));
  nodes.push(n('Mul', ['bench_r', 'bench_zero'], ['bench_r0']));
  nodes.push(n('Add', ['bench_core', 'bench_r0'], [output]));
  const graph: IGraphProto = { ...g, node: nodes, initializer: [...(g.initializer ?? []), ...inits] };
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  writeFileSync(dest, encodeModel(graph, path.basename(dest), opset === undefined || opset === null ? {} : { opset: Number(opset) }).model);
}

/** Writes a unet at `file` = the oracle unet + a K×(N×N MatMul) side chain. */
function writeHeavyUnet(oracleUnet: string, file: string, size: number, matmuls: number): void {
  writeHeavyModel(oracleUnet, file, { output: 'out_sample', input: 'sample', size, matmuls, range: 1 / Math.sqrt(size) });
}

export const sessionOptions = (): ort.InferenceSession.SessionOptions => ({
  executionProviders: ['cpu'],
  intraOpNumThreads: Math.max(1, os.availableParallelism()),
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});

async function timeUnet(file: string): Promise<number> {
  const s = await ort.InferenceSession.create(file, sessionOptions());
  const feeds = {
    sample: new ort.Tensor('float32', new Float32Array(4 * 8 * 8).fill(0.5), [1, 4, 8, 8]),
    timestep: new ort.Tensor('float32', new Float32Array([500]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', new Float32Array(77 * 32), [1, 77, 32]),
  };
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t);
  }
  await s.release();
  return median(times.slice(1));
}

/** Copy of `oracleDir` with a unet whose single run takes ≈ targetMs on this machine. */
export async function buildHeavyImageFixture(oracleDir: string, targetMs = 50): Promise<{ dir: string; size: number; matmuls: number; unetMs: number }> {
  const dir = path.join(tempDir('heavy'), 'sd-heavy');
  copyModelDir(oracleDir, dir);
  const unet = path.join(dir, 'unet', 'model.onnx');
  const oracleUnet = path.join(oracleDir, 'unet', 'model.onnx');
  const size = 512;
  writeHeavyUnet(oracleUnet, unet, size, 2);
  const two = await timeUnet(unet);
  const per = Math.max(0.05, two / 2);
  const matmuls = Math.max(1, Math.min(200, Math.round(targetMs / per)));
  writeHeavyUnet(oracleUnet, unet, size, matmuls);
  return { dir, size, matmuls, unetMs: await timeUnet(unet) };
}

/**
 * Feeds for one run of `session`, from its input metadata: symbolic dims from `dims` (else 1),
 * int inputs 1, floats 0, bools true. Enough to time a model, not to get meaningful outputs.
 */
export function syntheticFeeds(session: ort.InferenceSession, dims: Readonly<Record<string, number>>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) throw new Error(`input ${m.name} is not a tensor`);
    const shape = m.shape.map((d) => (typeof d === 'number' ? d : (dims[d] ?? 1)));
    const count = shape.reduce((a, b) => a * b, 1);
    if (m.type === 'int64') feeds[m.name] = new ort.Tensor('int64', new BigInt64Array(count).fill(1n), shape);
    else if (m.type === 'int32') feeds[m.name] = new ort.Tensor('int32', new Int32Array(count).fill(1), shape);
    else if (m.type === 'bool') feeds[m.name] = new ort.Tensor('bool', new Uint8Array(count).fill(1), shape);
    else if (m.type === 'float32') feeds[m.name] = new ort.Tensor('float32', new Float32Array(count), shape);
    else throw new Error(`input ${m.name}: type ${m.type} not handled`);
  }
  return feeds;
}

/** Median ms of one session.run of `file` on synthetic feeds (1 warm-up + `runs`). */
export async function timeModel(file: string, dims: Readonly<Record<string, number>>, runs = 15): Promise<number> {
  const s = await ort.InferenceSession.create(file, sessionOptions());
  const feeds = syntheticFeeds(s, dims);
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    await s.run(feeds);
    if (i > 0) times.push(performance.now() - t);
  }
  await s.release();
  return median(times);
}

export interface Calibrated {
  /** ms per run of the source model (synthetic feeds). */
  baseMs: number;
  /** ms per run of the model written at dest. */
  runMs: number;
  size: number;
  matmuls: number;
}

/**
 * Writes `dest` = `source` + a side chain (see {@link writeHeavyModel}) whose K is chosen so that
 * one run takes ≈ targetMs here: time the source and K = 8, then rescale K by the measured cost per
 * MatMul ((run − source) / K) until a run is within 5 % of the target (at most 4 rewrites; on a
 * shared machine one noisy timing would otherwise set K for the whole bench).
 */
export async function calibrateHeavyModel(
  source: string,
  dest: string,
  chain: Omit<SideChain, 'matmuls'>,
  dims: Readonly<Record<string, number>>,
  targetMs: number,
): Promise<Calibrated> {
  const baseMs = await timeModel(source, dims);
  let k = 8;
  writeHeavyModel(source, dest, { ...chain, matmuls: k });
  let t = await timeModel(dest, dims);
  for (let i = 0; i < 4 && Math.abs(t - targetMs) > 0.05 * targetMs; i++) {
    const per = Math.max(0.005, (t - baseMs) / k);
    const next = Math.max(1, Math.min(1000, Math.round((targetMs - baseMs) / per)));
    if (next === k) break;
    k = next;
    writeHeavyModel(source, dest, { ...chain, matmuls: k });
    t = await timeModel(dest, dims);
  }
  return { baseMs, runMs: t, size: chain.size, matmuls: k };
}

/**
 * Copy of a text fixture (gpt2 layout: onnx/model.onnx, KV cache) whose forward pass takes
 * ≈ targetMs. The chain depends on input_ids, fed on every step (length 1 once the cache is warm);
 * timed as such a step (one new token, 32 cached positions).
 */
export async function buildHeavyTextFixture(textDir: string, targetMs = 10): Promise<Calibrated & { dir: string }> {
  const dir = path.join(tempDir('heavy-text'), 'text-heavy');
  copyModelDir(textDir, dir);
  const dims = { batch_size: 1, sequence_length: 1, past_sequence_length: 32, total_sequence_length: 33 };
  const c = await calibrateHeavyModel(path.join(textDir, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'), { output: 'logits', input: 'input_ids', size: 256 }, dims, targetMs);
  return { ...c, dir };
}

/**
 * Copy of a MusicGen fixture whose merged decoder takes ≈ targetMs per run. The chain sits outside
 * the decoder's If (use_cache_branch) and depends on input_ids, fed in both branches; timed as a
 * cached step with classifier-free guidance (batch 2 × 4 codebooks, one new frame).
 */
export async function buildHeavyMusicFixture(musicDir: string, targetMs = 10): Promise<Calibrated & { dir: string }> {
  const dir = path.join(tempDir('heavy-music'), 'music-heavy');
  copyModelDir(musicDir, dir);
  const dims = {
    batch_size: 2,
    batch_size_x_codebooks: 8,
    decoder_sequence_length: 1,
    encoder_sequence_length: 8,
    encoder_sequence_length_out: 8,
    past_decoder_sequence_length: 32,
  };
  const file = path.join('onnx', 'decoder_model_merged.onnx');
  const c = await calibrateHeavyModel(path.join(musicDir, file), path.join(dir, file), { output: 'logits', input: 'input_ids', size: 256 }, dims, targetMs);
  return { ...c, dir };
}

export interface RecordedRun {
  file: string;
  feeds: Record<string, ort.Tensor>;
}

/** Wraps a SessionSource so that every session.run's feeds are recorded (in order). */
export function recordingSessions(source: SessionSource, log: RecordedRun[]): SessionSource {
  return {
    async load(file: string): Promise<LoadedSession> {
      const loaded = await source.load(file);
      const target = loaded.session;
      const run = (feeds: Record<string, ort.Tensor>) => {
        log.push({ file, feeds: { ...feeds } });
        return target.run(feeds);
      };
      const session = new Proxy(target, {
        get(t, prop) {
          if (prop === 'run') return run;
          const value: unknown = Reflect.get(t, prop, t);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
        },
      });
      return { ...loaded, session };
    },
  };
}

/** Raw baseline: the same runs, on sessions created directly with ort (same options as the engine's). */
export async function rawReplayer(runs: readonly RecordedRun[]): Promise<{ replay(): Promise<{ totalMs: number; perRun: number[] }>; release(): Promise<void> }> {
  const sessions = new Map<string, ort.InferenceSession>();
  for (const r of runs) if (!sessions.has(r.file)) sessions.set(r.file, await ort.InferenceSession.create(r.file, sessionOptions()));
  return {
    async replay() {
      const perRun: number[] = [];
      for (const r of runs) {
        const t = performance.now();
        await sessions.get(r.file)!.run(r.feeds);
        perRun.push(performance.now() - t);
      }
      return { totalMs: perRun.reduce((a, b) => a + b, 0), perRun };
    },
    async release() {
      for (const s of sessions.values()) await s.release();
    },
  };
}
