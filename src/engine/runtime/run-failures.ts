import { StudioError } from '../../shared/errors';

/**
 * What a person can do about an onnxruntime failure during a run. onnxruntime reports everything
 * as one-line strings ("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : … Failed to allocate memory
 * …"); without this they reach the UI as "Something went wrong inside Atelier". Returns null for
 * failures it does not recognise (they stay INTERNAL, with the message).
 */
export interface RunFailureContext {
  /** "image", "text" or "music". */
  kind: string;
  /** What the run asked for, in words (e.g. "1024×1024, batch 2"), when it matters for memory. */
  size?: string;
}

const MEMORY = /out of memory|failed to allocate|bad_alloc|alloc(ation)?_?failed|E_OUTOFMEMORY|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED/i;
const INPUTS = /Got invalid dimensions|Invalid rank for input|Unexpected input data type|input '[^']*' is missing|Required inputs? .* (are|is) missing|Invalid Feed Input Name|invalid input name/i;

function firstLine(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  return raw.split('\n')[0]!.trim();
}

/** onnxruntime's lines carry C++ signatures; keep the start and the end, where the reason is. */
function shorten(line: string): string {
  return line.length > 300 ? `${line.slice(0, 120)} … ${line.slice(-160)}` : line;
}

export function describeRunFailure(error: unknown, context: RunFailureContext): StudioError | null {
  if (error instanceof StudioError) return error;
  const line = firstLine(error);
  const detail = shorten(line);
  if (MEMORY.test(line)) {
    const size = context.size ? ` (${context.size})` : '';
    return new StudioError(
      'OUT_OF_MEMORY',
      `The ${context.kind} generation ran out of memory${size}. Try a smaller size or batch, close other programs that use the GPU, or choose CPU in Settings → Performance. (${detail})`,
    );
  }
  if (INPUTS.test(line)) {
    return new StudioError('MODEL_INVALID', `This model does not take the inputs Atelier feeds a ${context.kind} model of its layout; it may be an unsupported export. (${detail})`);
  }
  return null;
}
