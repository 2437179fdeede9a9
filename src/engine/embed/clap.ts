import {
  AutoFeatureExtractor,
  cat,
  ClapAudioModelWithProjection,
  ClapTextModelWithProjection,
  type FeatureExtractor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import type { EngineOptions, ProviderName } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { mixToMono, resample } from '../media/resample';
import { readWav } from '../media/wav-read';
import type { ProviderRegistry } from '../runtime/providers';
import { loadOnDeviceChain } from '../runtime/transformers';
import { firstTensor, normalise, rows } from './vectors';

/**
 * CLAP through transformers.js, as Xenova/clap-htsat-unfused ships it: onnx/audio_model.onnx
 * (input_features [batch, 1, frames, mels] → audio_embeds), onnx/text_model.onnx (input_ids,
 * attention_mask → text_embeds), a ClapFeatureExtractor (log-mel at 48 kHz, 10 s windows) in
 * preprocessor_config.json. Music and text then share one space.
 */
export interface LoadedClap {
  family: 'clap';
  tokenizer: PreTrainedTokenizer;
  extractor: FeatureExtractor;
  /** The extractor's sampling rate and window length in samples (10 s at 48 kHz for the real model). */
  rate: number;
  windowSamples: number;
  text: PreTrainedModel;
  audio: PreTrainedModel;
  provider: ProviderName;
}

/** Windows per piece of music: a long piece is judged by evenly spaced 10 s excerpts, averaged. */
export const MAX_AUDIO_WINDOWS = 6;

function positiveNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

export async function loadClap(
  registry: ProviderRegistry,
  options: EngineOptions,
  dir: string,
  tokenizer: PreTrainedTokenizer,
): Promise<{ entry: LoadedClap; bytes: number; dispose: () => Promise<unknown> }> {
  let extractor: FeatureExtractor;
  try {
    extractor = await AutoFeatureExtractor.from_pretrained(dir, { local_files_only: true });
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `The audio feature extractor in ${dir} could not be loaded (${error instanceof Error ? error.message : String(error)}). Download preprocessor_config.json again.`);
  }
  const config = extractor.config as Record<string, unknown>;
  const rate = positiveNumber(config['sampling_rate']);
  const windowSamples = positiveNumber(config['nb_max_samples']);
  if (!rate || !windowSamples) throw new StudioError('MODEL_INVALID', `${dir}/preprocessor_config.json has no sampling_rate or nb_max_samples: it is not a CLAP feature extractor.`);
  // transformers.js computes only the unfused input (one mel spectrogram per window).
  if (config['truncation'] === 'fusion') {
    throw new StudioError('MODEL_INVALID', `${dir} is a fused CLAP model (truncation "fusion"), which Atelier cannot run; use an unfused one such as Xenova/clap-htsat-unfused.`);
  }
  const result = await loadOnDeviceChain(registry, options, dir, { text: 'onnx/text_model', audio: 'onnx/audio_model' }, async (device, dtype, sessionOptions) => {
    const text = await ClapTextModelWithProjection.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['text'], session_options: sessionOptions });
    const audio = await ClapAudioModelWithProjection.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['audio'], session_options: sessionOptions });
    return { text, audio };
  });
  const entry: LoadedClap = { family: 'clap', tokenizer, extractor, rate, windowSamples: Math.round(windowSamples), text: result.value.text, audio: result.value.audio, provider: result.provider };
  return { entry, bytes: result.bytes, dispose: () => Promise.all([entry.text.dispose(), entry.audio.dispose()]) };
}

/**
 * Where the windows of a piece `length` samples long start: one window for a piece that fits,
 * else up to `max` windows spread evenly from the start to the end (deterministic, unlike the
 * extractor's own random crop, so a piece always gets the same vector).
 */
export function audioWindows(length: number, window: number, max = MAX_AUDIO_WINDOWS): number[] {
  if (length <= window) return [0];
  const count = Math.min(max, Math.ceil(length / window));
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - window)) / (count - 1)));
}

/** One WAV file → its CLAP vector: mono, at the extractor's rate, windows embedded and averaged. */
export async function embedAudioFile(entry: LoadedClap, file: string): Promise<number[]> {
  const wav = await readWav(file, 'The music to index');
  const mono = mixToMono(wav.samples, wav.channels);
  if (mono.length === 0) throw new StudioError('INVALID_INPUT', `The music to index (${file}) has no samples.`);
  // Windows are cut at the file's own rate, then each is resampled (never the whole piece).
  const sourceWindow = Math.max(1, Math.round((entry.windowSamples * wav.sampleRate) / entry.rate));
  const features: Tensor[] = [];
  for (const start of audioWindows(mono.length, sourceWindow)) {
    const excerpt = resample(mono.subarray(start, start + sourceWindow), wav.sampleRate, entry.rate);
    const { input_features } = (await entry.extractor(excerpt.subarray(0, entry.windowSamples))) as { input_features: Tensor };
    features.push(input_features);
  }
  const output = (await entry.audio({ input_features: features.length === 1 ? features[0]! : cat(features, 0) })) as Record<string, Tensor>;
  const perWindow = rows(firstTensor(output, 'audio_embeds'));
  const mean = new Float64Array(perWindow[0]!.length);
  for (const v of perWindow) v.forEach((x, i) => (mean[i]! += x));
  return normalise(mean);
}
