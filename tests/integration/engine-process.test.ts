import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInfo, EngineMessage, EngineRequestBody, ModelInspection, RunResult } from '../../src/shared/engine-protocol';
import { getFixtures, tempDir } from '../unit/engine/helpers';

type Reply = Extract<EngineMessage, { type: 'reply' }>;

/** A minimal client of the engine protocol, as the main process would write one. */
class EngineClient {
  private seq = 0;
  readonly messages: EngineMessage[] = [];
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  readonly ready: Promise<number>;
  readonly child: ChildProcess;
  stderr = '';

  constructor() {
    this.child = fork(path.resolve('src/engine/main.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    // Drain stderr (onnxruntime logs there) so a full pipe can never block the engine.
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`engine exited with ${code}`)));
      this.child.on('message', (raw) => {
        const message = raw as EngineMessage;
        this.messages.push(message);
        if (message.type === 'ready') resolve(message.pid);
        if (message.type === 'reply') this.waiting.get(message.seq)?.(message);
      });
    });
  }

  request(body: EngineRequestBody): Promise<Reply> {
    const seq = ++this.seq;
    return this.raw({ ...body, seq }, seq);
  }

  raw(message: unknown, seq: number): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.child.send(message as object);
    });
  }

  async value<T>(body: EngineRequestBody): Promise<T> {
    const reply = await this.request(body);
    if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
    return reply.value as T;
  }

  of(jobId: string): EngineMessage[] {
    return this.messages.filter((m) => 'jobId' in m && m.jobId === jobId);
  }
}

let engine: EngineClient;

beforeAll(async () => {
  await getFixtures();
  engine = new EngineClient();
  await engine.ready;
});

afterAll(() => {
  engine?.child.kill();
});

function oracleSentence(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'oracle.json'), 'utf8')) as { sentence: string }).sentence;
}

describe('engine process (child_process.fork)', () => {
  it('says ready with its pid and answers info with the provider chain and reasons', async () => {
    expect(await engine.ready).toBe(engine.child.pid);
    const info = await engine.value<EngineInfo>({ type: 'info' });
    expect(info.pid).toBe(engine.child.pid);
    expect(info.transformers).toBe('4.3.1');
    expect(info.chain.at(-1)).toBe('cpu');
    expect(info.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    for (const p of info.providers.filter((x) => !x.available)) expect(p.reason).toBeTruthy();
    expect(info.intraOpThreads).toBeGreaterThan(0);
  });

  it('answers INVALID_INPUT for bad messages and keeps serving', async () => {
    const bad = await engine.raw({ seq: 900, type: 'run', jobId: 'j', modelDir: '/x', outDir: '/y', run: { kind: 'text', params: { prompt: 3 } } }, 900);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const unknown = await engine.raw({ seq: 901, type: 'explode' }, 901);
    expect(unknown).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    engine.child.send({ hello: 'world' }); // no seq at all: replied with seq -1, engine survives
    engine.child.send('not even an object');
    const status = await engine.value<{ busy: string | null }>({ type: 'status' });
    expect(status.busy).toBeNull();
  });

  it('inspects a model folder', async () => {
    const f = await getFixtures();
    const inspection = await engine.value<ModelInspection>({ type: 'inspect', modelDir: f.musicOracle });
    expect(inspection).toMatchObject({ kind: 'music', ok: true });
  });

  it('runs the text oracle with forced CUDA only on CUDA: without it the run fails with the reason, and Automatic falls back to CPU', async () => {
    const f = await getFixtures();
    const info = await engine.value<EngineInfo>({ type: 'info' });
    const cudaAvailable = info.providers.find((p) => p.name === 'cuda')?.available === true;
    const textRun = (jobId: string) => ({
      type: 'run' as const,
      jobId,
      modelDir: f.textOracle,
      outDir: tempDir(),
      run: { kind: 'text' as const, params: { model: 'oracle', prompt: 'Tell me', action: 'continue' as const, maxNewTokens: 40, temperature: 0, topP: 0.95, topK: 50, repetitionPenalty: 1 } },
    });
    await engine.value({ type: 'configure', options: { provider: 'cuda', intraOpThreads: 1, memoryBudgetMb: 0 } });
    const forced = await engine.request(textRun('text-forced'));
    if (cudaAvailable) {
      expect(forced).toMatchObject({ ok: true, value: { provider: 'cuda' } });
    } else {
      expect(forced.ok).toBe(false);
      if (!forced.ok) {
        expect(forced.error.code).toBe('PROVIDER_UNAVAILABLE');
        expect(forced.error.message).toMatch(/CUDA unavailable: /);
      }
      expect(engine.of('text-forced').filter((m) => m.type === 'token')).toEqual([]);
    }
    await engine.value({ type: 'configure', options: { provider: 'auto', intraOpThreads: 1, memoryBudgetMb: 0 } });
    const result = await engine.value<RunResult>(textRun('text-1'));
    const tokens = engine.of('text-1').filter((m): m is Extract<EngineMessage, { type: 'token' }> => m.type === 'token');
    expect(tokens.map((t) => t.text).join('')).toBe(oracleSentence(f.textOracle));
    expect(result.text).toBe(oracleSentence(f.textOracle));
    if (!cudaAvailable) expect(result.providerNote).toMatch(/^CUDA unavailable: /);
    await engine.value({ type: 'configure', options: { provider: 'cpu', intraOpThreads: 1, memoryBudgetMb: 0 } });
  });

  it('answers MODEL_INVALID naming the file for a truncated model, then keeps serving', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    cpSync(f.textGpt2, dir, { recursive: true });
    const file = path.join(dir, 'onnx/model.onnx');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    const reply = await engine.request({
      type: 'run',
      jobId: 'bad-1',
      modelDir: dir,
      outDir: tempDir(),
      run: { kind: 'text', params: { model: 'x', prompt: 'hi', action: 'continue', maxNewTokens: 4, temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 } },
    });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('MODEL_INVALID');
      expect(reply.error.message).toContain(file);
    }
    const info = await engine.value<EngineInfo>({ type: 'info' });
    expect(info.pid).toBe(engine.child.pid);
  });

  it('queues a second run behind the first, and cancel stops the running one before its next token', async () => {
    const f = await getFixtures();
    const text = { kind: 'text' as const, params: { model: 'x', prompt: 'Once', action: 'continue' as const, maxNewTokens: 200, temperature: 0.8, topP: 1, topK: 0, repetitionPenalty: 1, seed: 3 } };
    const first = engine.request({ type: 'run', jobId: 'long-1', modelDir: f.textGpt2, outDir: tempDir(), run: text });
    const second = engine.request({ type: 'run', jobId: 'long-2', modelDir: f.textOracle, outDir: tempDir(), run: { kind: 'text', params: { ...text.params, temperature: 0, maxNewTokens: 40 } } });
    // wait until the first run is streaming
    while (!engine.of('long-1').some((m) => m.type === 'token')) await new Promise((r) => setTimeout(r, 5));
    const status = await engine.value<{ running: string | null; queued: string[] }>({ type: 'status' });
    expect(status.running).toBe('long-1');
    expect(status.queued).toEqual(['long-2']);
    const cancel = await engine.value<{ state: string }>({ type: 'cancel', jobId: 'long-1' });
    expect(cancel.state).toBe('running');
    const tokensAtCancel = engine.of('long-1').filter((m) => m.type === 'token').length;
    const firstReply = await first;
    expect(firstReply).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    // at most the token of the step already in flight when the cancel arrived
    expect(engine.of('long-1').filter((m) => m.type === 'token').length).toBeLessThanOrEqual(tokensAtCancel + 1);
    const secondReply = await second;
    expect(secondReply.ok).toBe(true);
    expect(await engine.value<{ state: string }>({ type: 'cancel', jobId: 'long-1' })).toMatchObject({ state: 'unknown' });
  });

  it('runs MusicGen and writes a WAV with peaks', async () => {
    const f = await getFixtures();
    const outDir = tempDir();
    const result = await engine.value<RunResult>({
      type: 'run',
      jobId: 'music-1',
      modelDir: f.musicOracle,
      outDir,
      run: { kind: 'music', params: { model: 'oracle', prompt: 'tone', seconds: 0.8, guidance: 3, temperature: 0, topK: 250, variations: 1, format: 'pcm16' } },
    });
    expect(result.outputs.map((o) => o.role)).toEqual(['audio', 'peaks']);
    expect(result.meta).toMatchObject({ sampleRate: 16000, channels: 1, frames: 20 * 640 });
    expect(engine.of('music-1').filter((m) => m.type === 'progress').length).toBeGreaterThan(20);
    expect(readFileSync(result.outputs[0]!.path).toString('ascii', 0, 4)).toBe('RIFF');
    // extend that piece through the protocol: source + 1 s, crossfaded, labelled as such
    const extended = await engine.value<RunResult>({
      type: 'run',
      jobId: 'music-2',
      modelDir: f.musicOracle,
      outDir: tempDir(),
      run: { kind: 'music', params: { model: 'oracle', prompt: 'tone', seconds: 1, guidance: 3, temperature: 0, topK: 250, variations: 1, format: 'pcm16' }, extendFromPath: result.outputs[0]!.path },
    });
    expect(extended.meta).toMatchObject({ frames: 20 * 640 + 25 * 640, extension: 'crossfade', extendedFrom: 'music.wav' });
    expect(String(extended.meta?.['note'])).toContain('could not hear the original');
  });
});
