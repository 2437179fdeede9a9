import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ModelInspection } from '../../shared/engine-protocol';
import { embeddingLayoutOf, embeddingProblems } from './embedding-layout';

/**
 * Recognises a model folder by the files its publisher ships and says, in words a person can act
 * on, what is missing. Synchronous and cheap: it reads only directory listings and small JSON files.
 */

function listFiles(dir: string, base = dir, depth = 0, out: { path: string; bytes: number }[] = []): { path: string; bytes: number }[] {
  if (depth > 3) return out;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    let info;
    try {
      info = statSync(full);
    } catch {
      continue;
    }
    if (info.isDirectory()) listFiles(full, base, depth + 1, out);
    else if (info.isFile()) out.push({ path: path.relative(base, full).split(path.sep).join('/'), bytes: info.size });
  }
  return out;
}

function readJson(file: string): Record<string, unknown> | null | 'corrupt' {
  if (!existsSync(file)) return null;
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

function field(obj: unknown, key: string): unknown {
  return obj && typeof obj === 'object' && key in obj ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Stereo MusicGen (audio_channels 2: two codebook streams interleaved in the decoder) is not
 * something transformers.js decodes: it would treat the 8 codebooks as one mono stream and make
 * noise. Said at import time and at load, instead of producing a broken clip.
 */
export function unsupportedMusicProblem(config: unknown): string | null {
  const channels = field(field(config, 'audio_encoder'), 'audio_channels') ?? field(field(config, 'decoder'), 'audio_channels') ?? field(config, 'audio_channels');
  if (typeof channels === 'number' && channels > 1) {
    return `this is a stereo MusicGen (audio_channels ${channels}), which Atelier cannot run yet (transformers.js decodes MusicGen as mono); use a mono MusicGen such as musicgen-small`;
  }
  return null;
}

/** Files matching `<stem>*.onnx` in `files` (relative paths), e.g. onnx/model_q4.onnx for stem onnx/model. */
function variants(files: Set<string>, stem: string): string[] {
  return [...files].filter((f) => f.startsWith(stem) && f.endsWith('.onnx') && /^(_[a-z0-9]+)?$/.test(f.slice(stem.length, -'.onnx'.length)));
}

function zeroByteProblems(files: { path: string; bytes: number }[]): string[] {
  return files
    .filter((f) => f.bytes === 0 && (f.path.endsWith('.onnx') || f.path.endsWith('.json') || f.path.includes('onnx_data')))
    .map((f) => `${f.path} is empty (0 bytes): the download did not finish; download the model again`);
}

function inspectText(files: Set<string>, config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const lm = 'the folder looks like a transformers.js language model';
  if (!files.has('tokenizer.json')) problems.push(`tokenizer.json is missing: ${lm} but its tokenizer was not downloaded`);
  if (!files.has('tokenizer_config.json')) problems.push(`tokenizer_config.json is missing: ${lm}; without it the tokenizer cannot load (download it from the same repository)`);
  if (variants(files, 'onnx/model').length === 0) {
    problems.push(`onnx/model.onnx is missing: ${lm} but no ONNX weights (onnx/model.onnx, onnx/model_quantized.onnx, onnx/model_q4.onnx, …) were downloaded`);
  }
  if (!field(config, 'model_type')) problems.push('config.json has no model_type: it is not a transformers config; download config.json again');
  return problems;
}

function inspectMusic(files: Set<string>): string[] {
  const problems: string[] = [];
  const mg = 'the folder looks like a MusicGen model in transformers.js layout';
  for (const [stem, role] of [
    ['onnx/text_encoder', 'the text encoder'],
    ['onnx/decoder_model_merged', 'the music decoder'],
    ['onnx/encodec_decode', 'the EnCodec audio decoder'],
  ] as const) {
    if (variants(files, stem).length === 0) problems.push(`${stem}.onnx is missing: ${mg} but ${role} was not downloaded`);
  }
  if (!files.has('tokenizer.json')) problems.push(`tokenizer.json is missing: ${mg} but its T5 tokenizer was not downloaded`);
  if (!files.has('tokenizer_config.json')) problems.push(`tokenizer_config.json is missing: ${mg}; download it from the same repository`);
  return problems;
}

function inspectImage(dir: string, files: Set<string>, index: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const sd = 'the folder looks like a diffusers ONNX export';
  const needed: [string, string][] = [
    ['unet', 'the UNet'],
    ['text_encoder', 'the text encoder'],
    ['vae_decoder', 'the VAE decoder'],
  ];
  if ('text_encoder_2' in index) needed.push(['text_encoder_2', 'the second text encoder (SDXL)']);
  for (const [folder, role] of needed) {
    if (!files.has(`${folder}/model.onnx`)) problems.push(`${folder}/model.onnx is missing: ${sd} but ${role} was not downloaded`);
  }
  for (const folder of ['tokenizer', ...('tokenizer_2' in index ? ['tokenizer_2'] : [])]) {
    const hasTokenizer = files.has(`${folder}/tokenizer.json`) || (files.has(`${folder}/vocab.json`) && files.has(`${folder}/merges.txt`));
    if (!hasTokenizer) problems.push(`${folder}/ is missing its tokenizer files (vocab.json and merges.txt, or tokenizer.json): ${sd} but the tokenizer was not downloaded`);
  }
  if (!files.has('scheduler/scheduler_config.json')) {
    problems.push(`scheduler/scheduler_config.json is missing: ${sd} but the scheduler settings were not downloaded`);
  } else if (readJson(path.join(dir, 'scheduler/scheduler_config.json')) === 'corrupt') {
    problems.push('scheduler/scheduler_config.json is not valid JSON: download it again');
  }
  return problems;
}

export function inspectModelDir(dir: string): ModelInspection {
  const absolute = path.resolve(dir);
  if (!existsSync(absolute) || !statSync(absolute).isDirectory()) {
    return { kind: 'unknown', ok: false, problems: [`${absolute} is not a folder: choose the model's folder (the one that holds config.json or model_index.json)`], files: [], totalBytes: 0 };
  }
  const fileList = listFiles(absolute);
  const files = new Set(fileList.map((f) => f.path));
  const totalBytes = fileList.reduce((sum, f) => sum + f.bytes, 0);
  const base = { files: fileList, totalBytes };

  const index = readJson(path.join(absolute, 'model_index.json'));
  if (index === 'corrupt') {
    return { ...base, kind: 'image', ok: false, problems: ['model_index.json is not valid JSON: download it again'] };
  }
  if (index) {
    const problems = [...inspectImage(absolute, files, index), ...zeroByteProblems(fileList)];
    const cls = field(index, '_class_name');
    return { ...base, kind: 'image', ok: problems.length === 0, problems, architecture: typeof cls === 'string' ? cls : undefined };
  }

  const config = readJson(path.join(absolute, 'config.json'));
  if (config === 'corrupt') {
    return { ...base, kind: 'unknown', ok: false, problems: ['config.json is not valid JSON: download it again'] };
  }
  if (config) {
    const modelType = field(config, 'model_type');
    const architectures = field(config, 'architectures');
    const architecture = Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : typeof modelType === 'string' ? modelType : undefined;
    const embedding = embeddingLayoutOf(modelType, architecture);
    if (embedding) {
      const problems = [...embeddingProblems(embedding, files, (stem) => variants(files, stem).length > 0), ...zeroByteProblems(fileList)];
      return { ...base, kind: 'embedding', ok: problems.length === 0, problems, architecture };
    }
    const isMusic = modelType === 'musicgen' || field(field(config, 'decoder'), 'model_type') === 'musicgen_decoder' || variants(files, 'onnx/encodec_decode').length > 0;
    if (isMusic) {
      const unsupported = unsupportedMusicProblem(config);
      const problems = [...(unsupported ? [unsupported] : []), ...inspectMusic(files), ...zeroByteProblems(fileList)];
      return { ...base, kind: 'music', ok: problems.length === 0, problems, architecture };
    }
    const problems = [...inspectText(files, config), ...zeroByteProblems(fileList)];
    return { ...base, kind: 'text', ok: problems.length === 0, problems, architecture };
  }

  const problems: string[] = [];
  if (files.has('unet/model.onnx') || files.has('text_encoder/model.onnx')) {
    problems.push('model_index.json is missing: the folder looks like a diffusers ONNX export but its index file was not downloaded');
  } else if (files.has('tokenizer.json') || variants(files, 'onnx/model').length > 0) {
    problems.push('config.json is missing: the folder looks like a transformers.js model but its configuration was not downloaded');
  } else {
    problems.push('This folder has neither config.json (text or music model) nor model_index.json (image model)');
  }
  return { ...base, kind: 'unknown', ok: false, problems };
}

/** ONNX variants present for a stem (e.g. 'onnx/model'), as file names relative to the folder. */
export function onnxVariants(dir: string, stem: string): string[] {
  const files = new Set(listFiles(path.resolve(dir)).map((f) => f.path));
  return variants(files, stem);
}
