import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { GGUF_SPLIT_PART, ggufInFolder, isGgufMagic, isGgufName } from '../../shared/gguf-names';

/**
 * Where the GGUF model of a path is: the path itself when it is a .gguf file (or an Ollama blob),
 * or the one model file of a folder, as shared/gguf-names.ts picks it from the folder's names.
 */
export type GgufLocation = { kind: 'file'; file: string } | { kind: 'ambiguous'; files: string[] } | { kind: 'none' };

/** Whether a file starts with the GGUF magic (see isGgufMagic). */
export function hasGgufMagic(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4);
    return isGgufMagic(head.subarray(0, readSync(fd, head, 0, 4, 0)));
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
  const found = ggufInFolder(names);
  if (found.kind === 'file') return { kind: 'file', file: path.join(absolute, found.name) };
  return found.kind === 'ambiguous' ? { kind: 'ambiguous', files: found.names } : found;
}

/** Whether a model path (an installed model's path or a CLI argument) is a GGUF model. */
export function isGgufModelPath(target: string): boolean {
  return locateGguf(target).kind !== 'none';
}

/** The files of a GGUF model: the file itself, or every part of a split model (first part given). */
export function ggufParts(file: string): string[] {
  const part = GGUF_SPLIT_PART.exec(file);
  if (!part || Number(part[1]) !== 1) return [file];
  const count = Number(part[2]);
  const stem = file.slice(0, part.index);
  return Array.from({ length: count }, (_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${part[2]}.gguf`);
}
