import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * "Use models you already have": the GGUF models LM Studio and Ollama keep on this machine, found
 * without copying anything. They are registered in place (models import), so Atelier never
 * deletes them and they take no second copy of disk space.
 *
 * - LM Studio keeps `<models folder>/<publisher>/<model>/*.gguf` (~/.lmstudio/models, or
 *   ~/.cache/lm-studio/models in older versions).
 * - Ollama keeps blobs named by digest (`blobs/sha256-<hex>`) and, per model and tag, a manifest
 *   (`manifests/<registry>/<namespace>/<model>/<tag>`) whose layer of media type
 *   `application/vnd.ollama.image.model` names the GGUF blob. OLLAMA_MODELS moves the folder.
 */
export interface LocalGgufModel {
  source: 'lmstudio' | 'ollama';
  /** A name a person recognises: publisher/model/file for LM Studio, model:tag for Ollama. */
  name: string;
  /** The GGUF file (an Ollama blob has no .gguf extension; the engine reads its magic). */
  path: string;
  bytes: number;
}

export interface LocalSourceOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function sizeOf(file: string): number | null {
  try {
    const info = statSync(file);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

export function lmStudioModels(options: LocalSourceOptions = {}): LocalGgufModel[] {
  const home = options.home ?? os.homedir();
  const roots = [path.join(home, '.lmstudio', 'models'), path.join(home, '.cache', 'lm-studio', 'models')];
  const found: LocalGgufModel[] = [];
  for (const root of roots.filter((r) => existsSync(r))) {
    for (const publisher of listDirs(root)) {
      for (const model of listDirs(path.join(root, publisher))) {
        const dir = path.join(root, publisher, model);
        let names: string[] = [];
        try {
          names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.gguf') && !n.toLowerCase().startsWith('mmproj')).sort();
        } catch {
          continue;
        }
        for (const name of names) {
          const part = /-(\d{5})-of-\d{5}\.gguf$/i.exec(name);
          if (part && Number(part[1]) !== 1) continue;
          const bytes = sizeOf(path.join(dir, name));
          if (bytes !== null) found.push({ source: 'lmstudio', name: `${publisher}/${model}/${name.replace(/\.gguf$/i, '')}`, path: path.join(dir, name), bytes });
        }
      }
    }
  }
  return found;
}

const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';

export function ollamaModels(options: LocalSourceOptions = {}): LocalGgufModel[] {
  const env = options.env ?? process.env;
  const root = env['OLLAMA_MODELS'] ?? path.join(options.home ?? os.homedir(), '.ollama', 'models');
  const manifests = path.join(root, 'manifests');
  const found: LocalGgufModel[] = [];
  for (const registry of listDirs(manifests)) {
    for (const namespace of listDirs(path.join(manifests, registry))) {
      for (const model of listDirs(path.join(manifests, registry, namespace))) {
        let tags: string[] = [];
        try {
          tags = readdirSync(path.join(manifests, registry, namespace, model)).sort();
        } catch {
          continue;
        }
        for (const tag of tags) {
          let manifest: unknown;
          try {
            manifest = JSON.parse(readFileSync(path.join(manifests, registry, namespace, model, tag), 'utf8'));
          } catch {
            continue;
          }
          const layers = (manifest as { layers?: { mediaType?: unknown; digest?: unknown }[] }).layers ?? [];
          const layer = layers.find((l) => l.mediaType === OLLAMA_MODEL_LAYER && typeof l.digest === 'string');
          if (!layer || typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) continue;
          const blob = path.join(root, 'blobs', layer.digest.replace(':', '-'));
          const bytes = sizeOf(blob);
          // Official library models are "model:tag"; others keep their namespace.
          const label = `${namespace === 'library' ? model : `${namespace}/${model}`}:${tag}`;
          if (bytes !== null) found.push({ source: 'ollama', name: registry === 'registry.ollama.ai' ? label : `${registry}/${label}`, path: blob, bytes });
        }
      }
    }
  }
  return found;
}

/** Every GGUF model LM Studio and Ollama have on this machine. */
export function findLocalGgufModels(options: LocalSourceOptions = {}): LocalGgufModel[] {
  return [...lmStudioModels(options), ...ollamaModels(options)];
}
