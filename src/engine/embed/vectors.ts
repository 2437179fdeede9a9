import type { Tensor } from '@huggingface/transformers';
import { StudioError } from '../../shared/errors';

/** Vector helpers shared by the embedding families: every vector leaves the engine L2-normalised. */

export function normalise(values: ArrayLike<number>): number[] {
  let norm = 0;
  for (let i = 0; i < values.length; i++) norm += values[i]! * values[i]!;
  norm = Math.sqrt(norm);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = norm > 0 ? values[i]! / norm : 0;
  return out;
}

/** Rows of a [batch, dim] tensor, each normalised. */
export function rows(tensor: Tensor): number[][] {
  const [batch, dim] = tensor.dims as [number, number];
  const data = tensor.data as Float32Array;
  return Array.from({ length: batch }, (_, b) => normalise(data.subarray(b * dim, (b + 1) * dim)));
}

export function firstTensor(output: Record<string, Tensor>, ...names: string[]): Tensor {
  for (const name of names) if (output[name]) return output[name];
  throw new StudioError('MODEL_INVALID', `The embedding model gave none of ${names.join(', ')}; it is not a supported embedding model.`);
}
