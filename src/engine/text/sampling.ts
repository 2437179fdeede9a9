import { randomInt } from 'node:crypto';
import { LogitsProcessor, random, type Tensor } from '@huggingface/transformers';

/**
 * Sampling pieces transformers.js 4.3.1 lacks or hides:
 * - top_p: its generate() never adds a top-p warper (the code is commented out) and its
 *   TopPLogitsWarper has no implementation, so top-k-then-top-p filtering is done here;
 * - seeding: its multinomial sampler draws from the module-global Mersenne Twister exported as
 *   `random` (utils/random.js), so `random.seed(seed)` before generate() makes a run repeatable.
 *   This is process-global state; the engine runs one job at a time, so no other draw interleaves.
 */
export class TopKTopPLogitsProcessor extends LogitsProcessor {
  constructor(
    private readonly topK: number,
    private readonly topP: number,
  ) {
    super();
  }

  _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const data = logits.data;
    if (!(data instanceof Float32Array)) return logits;
    const vocab = logits.dims.at(-1) ?? data.length;
    for (let offset = 0; offset < data.length; offset += vocab) {
      filterRow(data.subarray(offset, offset + vocab), this.topK, this.topP);
    }
    return logits;
  }
}

/**
 * In place: keeps the top-k logits, then the smallest prefix of them whose probability reaches
 * top_p (ties at the cut-off are kept). A typed-array sort of the values, no index sort: cheap
 * enough per token for 150k-token vocabularies.
 */
export function filterRow(row: Float32Array, topK: number, topP: number): void {
  const n = row.length;
  const k = topK > 0 ? Math.min(topK, n) : n;
  if (k >= n && topP >= 1) return;
  const descending = Float32Array.from(row).sort().reverse();
  let keep = k;
  if (topP < 1) {
    const max = descending[0]!;
    let total = 0;
    for (let i = 0; i < k; i++) total += Math.exp(descending[i]! - max);
    let cumulative = 0;
    for (let i = 0; i < k; i++) {
      cumulative += Math.exp(descending[i]! - max) / total;
      if (cumulative >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const cutoff = descending[keep - 1]!;
  for (let i = 0; i < n; i++) if (row[i]! < cutoff) row[i] = Number.NEGATIVE_INFINITY;
}

/** Seeds transformers.js' sampler; returns the seed used (a fresh one when none was given). */
export function seedSampler(seed: number | undefined): number {
  const used = seed ?? randomInt(0, 2 ** 32 - 1);
  random.seed(used);
  return used;
}
