/**
 * A copy of the oracle image fixture whose unet also runs a chain of K dense MatMuls (N×N) that
 * depend on the input (so nothing is constant-folded), added to the output as ·0: the picture is
 * unchanged, one unet session.run costs whatever K and N make it (calibrated to ~50 ms here).
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

/** Writes a unet at `file` = the oracle unet + a K×(N×N MatMul) side chain. */
function writeHeavyUnet(oracleUnet: string, file: string, size: number, matmuls: number): void {
  const model = decodeModel(readFileSync(oracleUnet));
  const g = model.graph as IGraphProto;
  const nodes = [...(g.node ?? [])];
  const producer = nodes.find((x) => (x.output ?? []).includes('out_sample'));
  if (!producer) throw new Error('oracle unet has no out_sample producer');
  producer.output = (producer.output ?? []).map((o) => (o === 'out_sample' ? 'bench_core' : o));
  const r = rng(7);
  const w = r.uniforms(size * size, -1 / Math.sqrt(size), 1 / Math.sqrt(size));
  const inits: ITensorProto[] = [
    { ...floatTensor([size, size], w), name: 'bench_w' },
    { ...floatTensor([], [0]), name: 'bench_zero' },
  ];
  nodes.push(n('ReduceMean', ['sample'], ['bench_s'], [{ name: 'keepdims', type: 2, i: 0 }]));
  nodes.push(n('Add', ['bench_w', 'bench_s'], ['bench_a0']));
  let prev = 'bench_a0';
  for (let k = 0; k < matmuls; k++) {
    nodes.push(n('MatMul', [prev, 'bench_w'], [`bench_m${k}`]));
    prev = `bench_m${k}`;
  }
  nodes.push(n('ReduceMean', [prev], ['bench_r'], [{ name: 'keepdims', type: 2, i: 0 }]));
  nodes.push(n('Mul', ['bench_r', 'bench_zero'], ['bench_r0']));
  nodes.push(n('Add', ['bench_core', 'bench_r0'], ['out_sample']));
  const graph: IGraphProto = { ...g, node: nodes, initializer: [...(g.initializer ?? []), ...inits] };
  writeFileSync(file, encodeModel(graph, 'model.onnx').model);
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
