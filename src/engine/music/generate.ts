import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MusicgenForConditionalGeneration, TextStreamer, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import type { OutputFile, ProviderName, RunHooks, RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { MusicParams } from '../../shared/params';
import { computePeaks, encodeWav } from '../media/wav';
import { readWav, type DecodedWav } from '../media/wav-read';
import type { EngineContext } from '../runtime/context';
import { unsupportedMusicProblem } from '../runtime/layout';
import { ResidentModels } from '../runtime/resident-models';
import { loadOnDeviceChain, openTokenizerFolder } from '../runtime/transformers';
import { seedSampler } from '../text/sampling';
import { cancelled, guardSteps } from '../runtime/cancellation';
import { CROSSFADE_NOTE, crossfadeJoin, DEFAULT_CROSSFADE_SECONDS, planWindows, toChannels } from './crossfade';

/**
 * Text-to-music with MusicGen through MusicgenForConditionalGeneration.generate() (the
 * 'text-to-audio' pipeline of transformers.js 4.3.1 fails with MusicGen).
 *
 * Length: MusicGen's decoder emits codes in a delay pattern (codebook k lags k steps), and
 * transformers.js keeps, per codebook, the columns after the decoder start token minus that lag:
 * frames = 1 + max_new_tokens − num_codebooks. So for N frames we ask max_new_tokens =
 * N + num_codebooks − 1, with N = round(seconds × audio_encoder.frame_rate).
 *
 * Longer than the window: the decoder has max_position_embeddings positions, so one generate()
 * makes at most maxPositions − num_codebooks frames. Longer pieces are made in windows (each a
 * fresh generate() with the same prompt) joined by ~1.5 s equal-power crossfades, and extending a
 * library piece crossfades a new segment onto its tail (see ./crossfade.ts for why: the export has
 * no audio encoder, so the model cannot be prompted with audio). Seeds ("seed + 1 style"): window i
 * of variation v uses seed_v + (i + e) × variations, with seed_v = seed + v and e = 1 when
 * extending (the source piece counts as window 0, so an extension made with the source's own
 * parameters does not replay its opening); one window and no extension is exactly seed_v, as before.
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

const musicModels = new ResidentModels<LoadedMusicModel>('music');

function num(obj: unknown, key: string): number | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Sampling rate, frame rate and hop from the config (never assumed: musicgen-small is 32 kHz / 50 Hz,
 * others differ). maxPositions: decoder.max_position_embeddings, else generation_config max_length.
 */
export function musicFacts(config: unknown, dir: string, generationConfig?: unknown): MusicModelFacts {
  const unsupported = unsupportedMusicProblem(config);
  if (unsupported) throw new StudioError('MODEL_INVALID', `${dir}: ${unsupported}.`);
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
    maxPositions: num(decoder, 'max_position_embeddings') ?? num(generationConfig, 'max_length') ?? 2048,
  };
}

function readGenerationConfig(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'generation_config.json'), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function loadMusicModel(ctx: EngineContext, modelDir: string): Promise<LoadedMusicModel> {
  return musicModels.get(ctx, modelDir, async (dir, options) => {
    const tokenizer = await openTokenizerFolder(dir, 'music', 'this is not a MusicGen folder');
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
      facts: musicFacts(model.config, dir, readGenerationConfig(dir)),
    };
    return { entry, bytes: result.bytes, dispose: () => model.dispose() };
  });
}

export function unloadMusicModels(ctx: EngineContext, modelDir?: string): Promise<string[]> {
  return musicModels.unload(ctx, modelDir);
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
  /** A WAV to extend (16-bit PCM or float): the output is that piece followed by `seconds` of new audio. */
  extendFromPath?: string;
}

/** Most codec frames one generate() can make with this decoder. */
export function maxWindowFrames(facts: MusicModelFacts): number {
  return facts.maxPositions - facts.numCodebooks;
}

export async function generateMusic(modelDir: string, params: MusicParams, { ctx, hooks, outDir, extendFromPath }: MusicRunOptions): Promise<RunResult> {
  const started = performance.now();
  if (hooks.signal.aborted) throw cancelled();
  hooks.onProgress(0, 1, 'Loading the music model');
  const entry = await loadMusicModel(ctx, modelDir);
  const loadedAt = performance.now();
  const { facts } = entry;
  const windowMax = maxWindowFrames(facts);
  if (windowMax < 1) throw new StudioError('MODEL_INVALID', `${modelDir}: the decoder has ${facts.maxPositions} positions, too few for ${facts.numCodebooks} codebooks.`);

  let source: DecodedWav | null = null;
  if (extendFromPath !== undefined) {
    source = await readWav(extendFromPath);
    if (source.sampleRate !== facts.samplingRate) {
      throw new StudioError('INVALID_INPUT', `The piece to extend is ${source.sampleRate} Hz audio; this model makes ${facts.samplingRate} Hz. Extend it with a model of the same sample rate.`);
    }
    if (source.frames === 0) throw new StudioError('INVALID_INPUT', 'The piece to extend has no audio.');
  }
  if (hooks.signal.aborted) throw cancelled();

  // Codec frames: the added part, plus (when extending) the overlap with the source's tail,
  // at most half the source so that its first half stays untouched.
  const wantedOverlap = Math.max(1, Math.round(DEFAULT_CROSSFADE_SECONDS * facts.frameRate));
  const extensionOverlap = source ? Math.min(wantedOverlap, Math.floor(source.frames / (2 * facts.hop))) : 0;
  const { frames: addedFrames } = framesFor(params.seconds, facts);
  const plan = planWindows(addedFrames + extensionOverlap, windowMax, wantedOverlap);
  const windowTokens = plan.frames.map((f) => f + facts.numCodebooks - 1);
  const stepsPerVariation = windowTokens.reduce((a, b) => a + b, 0);
  const windowed = plan.frames.length > 1;

  const greedy = params.temperature === 0;
  const baseSeed = greedy ? null : seedSampler(params.seed);
  const totalSteps = stepsPerVariation * params.variations;
  const inputs = entry.tokenizer(params.prompt);
  await mkdir(outDir, { recursive: true });

  const outputs: OutputFile[] = [];
  const perVariationMs: number[] = [];
  let channelsOut = source?.channels ?? 1;
  let samplesOut = 0;
  const restoreForward = guardSteps(entry.model, hooks.signal);
  try {
    for (let v = 0; v < params.variations; v++) {
      const variationStart = performance.now();
      const seed = baseSeed === null ? null : (baseSeed + v) % 2 ** 32;
      let joined: Float32Array | null = null;
      let channels = 1;
      let stepsBefore = v * stepsPerVariation;
      for (let w = 0; w < plan.frames.length; w++) {
        const windowFrames = plan.frames[w]!;
        const maxNewTokens = windowTokens[w]!;
        if (seed !== null) seedSampler((seed + (w + (source ? 1 : 0)) * params.variations) % 2 ** 32);
        const label = [params.variations > 1 ? `Variation ${v + 1} of ${params.variations}` : '', windowed ? `window ${w + 1} of ${plan.frames.length}` : ''].filter(Boolean).join(', ');
        const offset = stepsBefore;
        const streamer = new FrameStreamer(entry.tokenizer, hooks.signal, (step) => hooks.onProgress(offset + step, totalSteps, label ? label.charAt(0).toUpperCase() + label.slice(1) : undefined));
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
        stepsBefore += maxNewTokens;
        if (hooks.signal.aborted) throw cancelled();
        if (!('dims' in result)) throw new StudioError('INTERNAL', 'MusicGen returned no audio.');
        const audio = interleave(result);
        if (audio.frames !== windowFrames * facts.hop) {
          throw new StudioError('INTERNAL', `MusicGen returned ${audio.frames} samples for ${windowFrames} frames of ${facts.hop}; expected ${windowFrames * facts.hop}.`);
        }
        channels = audio.channels;
        joined = joined === null ? audio.samples : crossfadeJoin(joined, audio.samples, channels, plan.overlapFrames * facts.hop);
      }
      let samples = joined!;
      if (source) {
        if (channels !== source.channels && channels !== 1) {
          throw new StudioError('INVALID_INPUT', `The piece to extend has ${source.channels} channel(s); this model makes ${channels}.`);
        }
        samples = crossfadeJoin(source.samples, toChannels(samples, channels, source.channels), source.channels, extensionOverlap * facts.hop);
        channels = source.channels;
      }
      channelsOut = channels;
      samplesOut = samples.length / channels;
      const stem = params.variations > 1 ? `music-${v + 1}` : 'music';
      const wavPath = path.join(outDir, `${stem}.wav`);
      const comment = [
        `Prompt: ${params.prompt}`,
        `Model: ${params.model}`,
        `Parameters: ${JSON.stringify({ ...params, seed })}`,
        ...(source && extendFromPath !== undefined ? [`Extended from ${path.basename(extendFromPath)}: ${CROSSFADE_NOTE}`] : []),
        ...(windowed ? [`Made in ${plan.frames.length} windows joined by crossfades (longer than the model's window).`] : []),
        'AI-generated with Atelier',
      ].join('\n');
      await writeFile(
        wavPath,
        encodeWav({
          samples,
          channels,
          sampleRate: facts.samplingRate,
          format: params.format,
          info: { title: params.prompt.slice(0, 120) || 'Untitled', comment, software: 'Atelier', date: new Date().toISOString().slice(0, 10) },
        }),
      );
      const durationMs = (samplesOut / facts.samplingRate) * 1000;
      outputs.push({ path: wavPath, mime: 'audio/wav', role: 'audio', durationMs, ...(seed === null ? {} : { seed }) });
      const peaksPath = path.join(outDir, `${stem}.peaks.json`);
      await writeFile(peaksPath, JSON.stringify(computePeaks(samples, channels, facts.samplingRate)));
      outputs.push({ path: peaksPath, mime: 'application/json', role: 'peaks', ...(seed === null ? {} : { seed }) });
      perVariationMs.push(performance.now() - variationStart);
    }
  } finally {
    restoreForward();
  }
  const finished = performance.now();
  const generateMs = finished - loadedAt;
  const secondsOf = (codecFrames: number) => (codecFrames * facts.hop) / facts.samplingRate;
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
      frames: samplesOut,
      codecFrames: plan.frames.reduce((a, b) => a + b, 0),
      frameRate: facts.frameRate,
      maxNewTokens: Math.max(...windowTokens),
      format: params.format,
      dtypes: entry.dtypes,
      perVariationMs,
      greedy,
      ...(windowed
        ? {
            windows: plan.frames.length,
            windowSeconds: plan.frames.map(secondsOf),
            windowCrossfadeSeconds: secondsOf(plan.overlapFrames),
            maxWindowSeconds: secondsOf(windowMax),
          }
        : {}),
      ...(source && extendFromPath !== undefined
        ? {
            extension: 'crossfade',
            extendedFrom: path.basename(extendFromPath),
            crossfadeSeconds: secondsOf(extensionOverlap),
            sourceFrames: source.frames,
            addedSeconds: secondsOf(addedFrames),
          }
        : windowed
          ? { extension: 'crossfade', crossfadeSeconds: secondsOf(plan.overlapFrames) }
          : {}),
      ...(source || windowed ? { note: CROSSFADE_NOTE } : {}),
    },
  };
}
