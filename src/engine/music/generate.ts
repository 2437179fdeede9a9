import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, MusicgenForConditionalGeneration, TextStreamer, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import type { OutputFile, ProviderName, RunHooks, RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { MusicParams } from '../../shared/params';
import { computePeaks, encodeWav } from '../media/wav';
import type { EngineContext } from '../runtime/context';
import { inspectModelDir } from '../runtime/layout';
import { resolveThreads } from '../runtime/sessions';
import { loadOnDeviceChain } from '../runtime/transformers';
import { seedSampler, StepGate } from '../text/sampling';

/**
 * Text-to-music with MusicGen through MusicgenForConditionalGeneration.generate() (the
 * 'text-to-audio' pipeline of transformers.js 4.3.1 fails with MusicGen).
 *
 * Length: MusicGen's decoder emits codes in a delay pattern (codebook k lags k steps), and
 * transformers.js keeps, per codebook, the columns after the decoder start token minus that lag:
 * frames = 1 + max_new_tokens − num_codebooks. So for N frames we ask max_new_tokens =
 * N + num_codebooks − 1, with N = round(seconds × audio_encoder.frame_rate).
 */

export interface MusicModelFacts {
  samplingRate: number;
  frameRate: number;
  hop: number;
  numCodebooks: number;
  maxPositions: number;
}

export interface LoadedMusicModel {
  tokenizer: PreTrainedTokenizer;
  model: MusicgenForConditionalGeneration;
  provider: ProviderName;
  providerNote?: string;
  dtypes: Record<string, string>;
  facts: MusicModelFacts;
}

const loaded = new Map<string, LoadedMusicModel>();

function cancelled(): StudioError {
  return new StudioError('CANCELLED', 'The generation was cancelled.');
}

function num(obj: unknown, key: string): number | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Sampling rate, frame rate and hop from the config (never assumed: musicgen-small is 32 kHz / 50 Hz, others differ). */
export function musicFacts(config: unknown, dir: string): MusicModelFacts {
  const audio = config && typeof config === 'object' ? (config as Record<string, unknown>)['audio_encoder'] : undefined;
  const decoder = config && typeof config === 'object' ? (config as Record<string, unknown>)['decoder'] : undefined;
  const samplingRate = num(audio, 'sampling_rate');
  const ratiosRaw = audio && typeof audio === 'object' ? (audio as Record<string, unknown>)['upsampling_ratios'] : undefined;
  const ratioHop = Array.isArray(ratiosRaw) && ratiosRaw.every((r) => typeof r === 'number') ? ratiosRaw.reduce((a: number, b: number) => a * b, 1) : undefined;
  const frameRate = num(audio, 'frame_rate') ?? (samplingRate && ratioHop ? samplingRate / ratioHop : undefined);
  const numCodebooks = num(decoder, 'num_codebooks');
  if (!samplingRate || !frameRate || !numCodebooks) {
    throw new StudioError('MODEL_INVALID', `${path.join(dir, 'config.json')} lacks audio_encoder.sampling_rate, audio_encoder.frame_rate (or upsampling_ratios) or decoder.num_codebooks: download config.json again.`);
  }
  return {
    samplingRate,
    frameRate,
    hop: Math.round(samplingRate / frameRate),
    numCodebooks,
    maxPositions: num(decoder, 'max_position_embeddings') ?? 2048,
  };
}

export async function loadMusicModel(ctx: EngineContext, modelDir: string): Promise<LoadedMusicModel> {
  const dir = path.resolve(modelDir);
  const options = ctx.options();
  const key = `music:${dir}|${options.provider}|${resolveThreads(options)}`;
  const cached = loaded.get(key);
  if (cached && ctx.resident.get(key)) return cached;

  const inspection = inspectModelDir(dir);
  if (inspection.kind !== 'music' || !inspection.ok) {
    const what = inspection.kind === 'music' ? inspection.problems.join('; ') : `this is not a MusicGen folder (${inspection.problems.join('; ') || `it looks like a ${inspection.kind} model`})`;
    throw new StudioError('MODEL_INVALID', `${dir}: ${what}`);
  }
  let tokenizer: PreTrainedTokenizer;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `The tokenizer in ${dir} could not be loaded (${error instanceof Error ? error.message : String(error)}). Download tokenizer.json and tokenizer_config.json again.`);
  }
  const result = await loadOnDeviceChain(
    ctx.registry,
    options,
    dir,
    { text_encoder: 'onnx/text_encoder', decoder_model_merged: 'onnx/decoder_model_merged', encodec_decode: 'onnx/encodec_decode' },
    async (device, dtype, sessionOptions) => {
      const model = await MusicgenForConditionalGeneration.from_pretrained(dir, { local_files_only: true, device, dtype, session_options: sessionOptions });
      if (!(model instanceof MusicgenForConditionalGeneration)) throw new StudioError('MODEL_INVALID', `${dir} did not load as MusicGen (config.json model_type should be "musicgen").`);
      return model;
    },
  );
  const model = result.value;
  const entry: LoadedMusicModel = {
    tokenizer,
    model,
    provider: result.provider,
    providerNote: result.providerNote,
    dtypes: result.dtypes,
    facts: musicFacts(model.config, dir),
  };
  loaded.set(key, entry);
  await ctx.resident.add({
    key,
    kind: 'music',
    bytes: result.bytes,
    dispose: async () => {
      loaded.delete(key);
      await model.dispose();
    },
  });
  return entry;
}

export async function unloadMusicModels(ctx: EngineContext, modelDir?: string): Promise<string[]> {
  return ctx.resident.clear(modelDir === undefined ? 'music:' : `music:${path.resolve(modelDir)}|`);
}

/**
 * Counts decoding steps (one per audio frame column) and refuses to go on once cancelled. It
 * extends TextStreamer only because generate()'s parameter type asks for one; nothing is decoded.
 */
class FrameStreamer extends TextStreamer {
  private seenPrompt = false;
  steps = 0;
  constructor(
    tokenizer: PreTrainedTokenizer,
    private readonly signal: AbortSignal,
    private readonly onStep: (steps: number) => void,
  ) {
    super(tokenizer, { skip_prompt: true });
  }
  put(_value: bigint[][]): void {
    if (this.signal.aborted) throw cancelled();
    if (!this.seenPrompt) {
      this.seenPrompt = true;
      return;
    }
    this.steps += 1;
    this.onStep(this.steps);
  }
  end(): void {}
}

/** Number of frames for a duration, and the max_new_tokens that yields exactly that many. */
export function framesFor(seconds: number, facts: MusicModelFacts): { frames: number; maxNewTokens: number } {
  const frames = Math.max(1, Math.round(seconds * facts.frameRate));
  return { frames, maxNewTokens: frames + facts.numCodebooks - 1 };
}

function interleave(audio: Tensor): { samples: Float32Array; channels: number; frames: number } {
  const dims = audio.dims;
  const channels = dims.length >= 3 ? dims[dims.length - 2]! : 1;
  const frames = dims[dims.length - 1]!;
  const data = audio.data;
  if (!(data instanceof Float32Array)) throw new StudioError('INTERNAL', `The audio decoder returned ${audio.type} samples; expected float32.`);
  // First batch item only ([B, C, N] → N×C interleaved).
  const samples = new Float32Array(frames * channels);
  for (let c = 0; c < channels; c++) for (let n = 0; n < frames; n++) samples[n * channels + c] = data[c * frames + n]!;
  return { samples, channels, frames };
}

export interface MusicRunOptions {
  ctx: EngineContext;
  hooks: RunHooks;
  outDir: string;
}

export async function generateMusic(modelDir: string, params: MusicParams, { ctx, hooks, outDir }: MusicRunOptions): Promise<RunResult> {
  const started = performance.now();
  if (hooks.signal.aborted) throw cancelled();
  hooks.onProgress(0, 1, 'Loading the music model');
  const entry = await loadMusicModel(ctx, modelDir);
  const loadedAt = performance.now();
  const { facts } = entry;
  const { frames, maxNewTokens } = framesFor(params.seconds, facts);
  if (maxNewTokens + 1 > facts.maxPositions) {
    const most = Math.floor((facts.maxPositions - facts.numCodebooks) / facts.frameRate);
    throw new StudioError('INVALID_INPUT', `This model can make at most ${most} seconds in one piece; ask for ${most} seconds or less.`);
  }

  const greedy = params.temperature === 0;
  const baseSeed = greedy ? null : seedSampler(params.seed);
  const totalSteps = maxNewTokens * params.variations;
  const inputs = entry.tokenizer(params.prompt);
  await mkdir(outDir, { recursive: true });

  const outputs: OutputFile[] = [];
  const perVariationMs: number[] = [];
  let channelsOut = 1;
  const original = entry.model.forward;
  const gate = new StepGate(hooks.signal, cancelled);
  entry.model.forward = async (modelInputs: unknown) => {
    await gate.pass();
    return original.call(entry.model, modelInputs);
  };
  try {
    for (let v = 0; v < params.variations; v++) {
      const variationStart = performance.now();
      const seed = baseSeed === null ? null : (baseSeed + v) % 2 ** 32;
      if (seed !== null) seedSampler(seed);
      const streamer = new FrameStreamer(entry.tokenizer, hooks.signal, (step) => hooks.onProgress(v * maxNewTokens + step, totalSteps, params.variations > 1 ? `Variation ${v + 1} of ${params.variations}` : undefined));
      const result = await entry.model.generate({
        ...inputs,
        max_new_tokens: maxNewTokens,
        do_sample: !greedy,
        // 1 switches classifier-free guidance off (the model's generation_config may ask for 3).
        guidance_scale: params.guidance > 1 ? params.guidance : 1,
        temperature: greedy ? 1 : params.temperature,
        top_k: greedy ? 0 : params.topK,
        streamer,
      });
      if (hooks.signal.aborted) throw cancelled();
      if (!('dims' in result)) throw new StudioError('INTERNAL', 'MusicGen returned no audio.');
      const audio = interleave(result);
      channelsOut = audio.channels;
      if (audio.frames !== frames * facts.hop) {
        throw new StudioError('INTERNAL', `MusicGen returned ${audio.frames} samples for ${frames} frames of ${facts.hop}; expected ${frames * facts.hop}.`);
      }
      const stem = params.variations > 1 ? `music-${v + 1}` : 'music';
      const wavPath = path.join(outDir, `${stem}.wav`);
      const comment = [
        `Prompt: ${params.prompt}`,
        `Model: ${params.model}`,
        `Parameters: ${JSON.stringify({ ...params, seed })}`,
        'AI-generated with Atelier',
      ].join('\n');
      await writeFile(
        wavPath,
        encodeWav({
          samples: audio.samples,
          channels: audio.channels,
          sampleRate: facts.samplingRate,
          format: params.format,
          info: { title: params.prompt.slice(0, 120) || 'Untitled', comment, software: 'Atelier', date: new Date().toISOString().slice(0, 10) },
        }),
      );
      const durationMs = (audio.frames / facts.samplingRate) * 1000;
      outputs.push({ path: wavPath, mime: 'audio/wav', role: 'audio', durationMs, ...(seed === null ? {} : { seed }) });
      const peaksPath = path.join(outDir, `${stem}.peaks.json`);
      await writeFile(peaksPath, JSON.stringify(computePeaks(audio.samples, audio.channels, facts.samplingRate)));
      outputs.push({ path: peaksPath, mime: 'application/json', role: 'peaks', ...(seed === null ? {} : { seed }) });
      perVariationMs.push(performance.now() - variationStart);
    }
  } finally {
    entry.model.forward = original;
  }
  const finished = performance.now();
  const generateMs = finished - loadedAt;
  return {
    outputs,
    seed: baseSeed,
    provider: entry.provider,
    providerNote: entry.providerNote,
    timings: {
      loadMs: loadedAt - started,
      generateMs,
      totalMs: finished - started,
      realtimeFactor: (params.seconds * params.variations * 1000) / Math.max(1, generateMs),
    },
    meta: {
      sampleRate: facts.samplingRate,
      channels: channelsOut,
      frames: frames * facts.hop,
      codecFrames: frames,
      frameRate: facts.frameRate,
      maxNewTokens,
      format: params.format,
      dtypes: entry.dtypes,
      perVariationMs,
      greedy,
    },
  };
}
