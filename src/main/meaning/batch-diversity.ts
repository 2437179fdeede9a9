import type { Library } from '../library';
import { meanPairwiseDistance } from './scores';

export type BatchDiversityLibrary = Pick<Library, 'listBatchesOf' | 'listEmbeddings' | 'setBatchDiversity'>;

/**
 * After items are indexed: the diversity of every batch they belong to (two or more items one job
 * made), measured over the batch's items that have a vector for `model`, is written onto each of
 * the batch's items and their records. The item indexed last makes the final measure, so a batch
 * indexed across several runs ends with all its items counted.
 */
export function recordBatchDiversity(library: BatchDiversityLibrary, model: string, indexed: string[]): void {
  if (indexed.length === 0) return;
  for (const batch of library.listBatchesOf(indexed)) {
    const vectors = [...library.listEmbeddings(model, batch).values()];
    const value = meanPairwiseDistance(vectors);
    if (value === null) continue;
    // Rounding can leave a hair outside 0–2 for identical or opposite vectors.
    library.setBatchDiversity(batch, { value: Math.min(2, Math.max(0, value)), model, count: vectors.length });
  }
}
