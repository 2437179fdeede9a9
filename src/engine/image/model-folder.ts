import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../shared/errors';
import type { LoadedSession, SessionSource } from '../runtime/types';
import { ClipTokenizer } from './clip-tokenizer';

/** What the pipeline reads from a diffusers / Optimum ONNX folder besides the unet's feeds: configs, tokenizers, sessions. */

const DEFAULT_VAE_SCALE = 0.18215;

export function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new StudioError('MODEL_INVALID', `The image model is missing ${what} (${path}). Re-download or re-import the model.`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw new StudioError('MODEL_INVALID', `${path} is not valid JSON. Re-download or re-import the model.`);
  }
}

export function vaeScale(modelDir: string): number {
  for (const p of ['vae_decoder/config.json', 'vae/config.json']) {
    const f = join(modelDir, p);
    if (existsSync(f)) {
      const cfg = JSON.parse(readFileSync(f, 'utf8')) as { scaling_factor?: unknown };
      if (typeof cfg.scaling_factor === 'number' && cfg.scaling_factor > 0) return cfg.scaling_factor;
    }
  }
  return DEFAULT_VAE_SCALE;
}

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
const tokenizers = new Map<string, { stamp: string; tokenizer: ClipTokenizer }>();

/**
 * The CLIP tokenizer of a `tokenizer/` folder, parsed once and reused while its files keep their
 * size and mtime (a real CLIP vocab + 48k merges take tens of ms to parse; a few stats do not).
 */
export function clipTokenizerFor(dir: string): ClipTokenizer {
  const stamp = TOKENIZER_FILES.map((name) => {
    try {
      const info = statSync(join(dir, name));
      return `${info.size}:${info.mtimeMs}`;
    } catch {
      return '-';
    }
  }).join('|');
  const cached = tokenizers.get(dir);
  if (cached && cached.stamp === stamp) return cached.tokenizer;
  const tokenizer = ClipTokenizer.fromDir(dir);
  tokenizers.set(dir, { stamp, tokenizer });
  return tokenizer;
}

/** A component's session (`<name>/model.onnx`), refused with a clear error when the folder lacks it. */
export function loadComponent(sessions: SessionSource, modelDir: string, name: string): Promise<LoadedSession> {
  const file = join(modelDir, name, 'model.onnx');
  if (!existsSync(file)) throw new StudioError('MODEL_INVALID', `The image model is missing ${name}/model.onnx. Re-download or re-import the model.`);
  return sessions.load(file);
}
