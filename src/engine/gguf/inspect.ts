import { statSync } from 'node:fs';
import path from 'node:path';
import type { GgufFileInfo } from 'node-llama-cpp';
import type { ModelInspection } from '../../shared/engine-protocol';
import { ggufParts, locateGguf } from './files';
import { loadNodeLlamaCpp } from './runtime';

/**
 * Bytes per block and values per block of ggml tensor types (ggml.c's type_traits), for the
 * truncation check. Types not listed are not size-checked (their offset still is).
 */
const GGML_TYPE_SIZES: Record<number, readonly [blockValues: number, blockBytes: number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  16: [256, 66], // IQ2_XXS
  17: [256, 74], // IQ2_XS
  18: [256, 98], // IQ3_XXS
  19: [256, 50], // IQ1_S
  20: [32, 18], // IQ4_NL
  21: [256, 110], // IQ3_S
  22: [256, 82], // IQ2_S
  23: [256, 136], // IQ4_XS
  24: [1, 1], // I8
  25: [1, 2], // I16
  26: [1, 4], // I32
  27: [1, 8], // I64
  28: [1, 8], // F64
  29: [256, 56], // IQ1_M
  30: [1, 2], // BF16
  34: [256, 54], // TQ1_0
  35: [256, 66], // TQ2_0
};

function tensorBytes(ggmlType: number, dimensions: readonly (number | bigint)[]): number | null {
  const size = GGML_TYPE_SIZES[ggmlType];
  if (!size) return null;
  const values = dimensions.reduce<number>((n, d) => n * Number(d), 1);
  return Math.ceil(values / size[0]) * size[1];
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`;
}

/** Problems a loaded header shows: no tokenizer, no weights, or tensors that run past the file's end. */
export function headerProblems(info: GgufFileInfo, partSizes: readonly number[]): string[] {
  // The reader does not stop at the end of the file: a header longer than the file is cut short.
  const headerEnd = info.metadataSize + (info.tensorInfoSize ?? 0);
  if (partSizes[0] !== undefined && headerEnd > partSizes[0]) {
    return [`the GGUF file is truncated inside its header (${formatBytes(headerEnd)} of header, ${formatBytes(partSizes[0])} in the file): the download did not finish, download it again`];
  }
  const problems: string[] = [];
  const tokenizer = info.metadata.tokenizer?.ggml;
  if (!tokenizer?.model || !Array.isArray(tokenizer.tokens) || tokenizer.tokens.length === 0) {
    problems.push('the GGUF file has no tokenizer in its metadata (tokenizer.ggml.*), so Atelier cannot turn text into tokens for it; it is not a language model file');
  }
  const tensors = info.fullTensorInfo ?? [];
  if (tensors.length === 0) problems.push('the GGUF file holds no tensors (no weights): it is a metadata-only or vocabulary file');
  const need = new Map<number, number>();
  for (const t of tensors) {
    const end = Number(t.fileOffset) + (tensorBytes(t.ggmlType, t.dimensions) ?? 0);
    need.set(t.filePart, Math.max(need.get(t.filePart) ?? 0, end));
  }
  for (const [part, end] of [...need.entries()].sort((a, b) => a[0] - b[0])) {
    const size = partSizes[part - 1];
    if (size !== undefined && end > size) {
      const which = partSizes.length > 1 ? `part ${part} of the GGUF file` : 'the GGUF file';
      problems.push(`${which} is truncated: its tensors need ${formatBytes(end)} but it has ${formatBytes(size)}; the download did not finish, download it again`);
    }
  }
  return problems;
}

/**
 * Reads a GGUF model's header (metadata and tensor table, not the weights) and says whether
 * Atelier can run it, in the same shape as a folder inspection. Corrupt or truncated files are
 * refused here, at import, with the reason, instead of failing (or crashing llama.cpp) at the
 * first generation.
 */
export async function inspectGguf(target: string): Promise<ModelInspection> {
  const location = locateGguf(target);
  const absolute = path.resolve(target);
  if (location.kind === 'none') {
    return { kind: 'unknown', ok: false, problems: [`${absolute} is neither a .gguf file nor a folder holding one`], files: [], totalBytes: 0 };
  }
  if (location.kind === 'ambiguous') {
    return {
      kind: 'text',
      ok: false,
      problems: [`this folder holds several GGUF models (${location.files.join(', ')}): import the .gguf file you want instead of the folder`],
      files: location.files.map((f) => ({ path: f, bytes: statSync(path.join(absolute, f)).size })),
      totalBytes: 0,
    };
  }
  const { readGgufFileInfo } = await loadNodeLlamaCpp();
  const parts = ggufParts(location.file);
  const base = statSync(absolute).isDirectory() ? absolute : path.dirname(location.file);
  const files = parts.map((p) => {
    let bytes = 0;
    try {
      bytes = statSync(p).size;
    } catch {
      // reported below
    }
    return { path: path.relative(base, p).split(path.sep).join('/'), bytes };
  });
  const totalBytes = files.reduce((n, f) => n + f.bytes, 0);
  const missing = files.filter((f) => f.bytes === 0).map((f) => `${f.path} is missing or empty: download it again`);
  if (missing.length > 0) return { kind: 'text', ok: false, problems: missing, files, totalBytes };
  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(location.file, { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false, spliceSplitFiles: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'text', ok: false, problems: [`${path.basename(location.file)} is not a readable GGUF file (${reason}): it is damaged or was not fully downloaded; download it again`], files, totalBytes };
  }
  const problems = headerProblems(info, files.map((f) => f.bytes));
  const architecture = info.metadata.general?.architecture;
  return { kind: 'text', ok: problems.length === 0, problems, files, totalBytes, ...(architecture ? { architecture: `gguf:${String(architecture)}` } : {}) };
}
