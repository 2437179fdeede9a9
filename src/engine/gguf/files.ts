import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the GGUF model of a path is: the path itself when it is a .gguf file, or the one model
 * file of a folder (LM Studio keeps one folder per model). Projector files (mmproj-*.gguf) of
 * vision models are not the language model; a split model (-00001-of-00003.gguf) is named by its
 * first part, which llama.cpp reads together with the others.
 */
export type GgufLocation = { kind: 'file'; file: string } | { kind: 'ambiguous'; files: string[] } | { kind: 'none' };

const SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;

export function isGgufName(name: string): boolean {
  return name.toLowerCase().endsWith('.gguf');
}

/** Whether a file starts with the GGUF magic: Ollama stores its models as blobs named by digest (sha256-…). */
export function hasGgufMagic(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'GGUF';
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function locateGguf(target: string): GgufLocation {
  const absolute = path.resolve(target);
  let info;
  try {
    info = statSync(absolute);
  } catch {
    return { kind: 'none' };
  }
  if (info.isFile()) return isGgufName(absolute) || hasGgufMagic(absolute) ? { kind: 'file', file: absolute } : { kind: 'none' };
  if (!info.isDirectory()) return { kind: 'none' };
  let names: string[];
  try {
    names = readdirSync(absolute);
  } catch {
    return { kind: 'none' };
  }
  // A transformers.js or diffusers folder is never read as GGUF, even with a stray .gguf inside.
  if (names.includes('config.json') || names.includes('model_index.json')) return { kind: 'none' };
  const models = names
    .filter((n) => isGgufName(n) && !n.toLowerCase().startsWith('mmproj') && !n.startsWith('.'))
    .filter((n) => {
      const part = SPLIT_PART.exec(n);
      return !part || Number(part[1]) === 1;
    })
    .sort();
  if (models.length === 0) return { kind: 'none' };
  if (models.length > 1) return { kind: 'ambiguous', files: models };
  return { kind: 'file', file: path.join(absolute, models[0]!) };
}

/** Whether a model path (an installed model's path or a CLI argument) is a GGUF model. */
export function isGgufModelPath(target: string): boolean {
  return locateGguf(target).kind !== 'none';
}

/** The files of a GGUF model: the file itself, or every part of a split model (first part given). */
export function ggufParts(file: string): string[] {
  const part = SPLIT_PART.exec(file);
  if (!part || Number(part[1]) !== 1) return [file];
  const count = Number(part[2]);
  const stem = file.slice(0, part.index);
  return Array.from({ length: count }, (_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${part[2]}.gguf`);
}
