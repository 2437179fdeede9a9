import { describe, expect, it } from 'vitest';
import { clipScore, meanPairwiseDistance } from '../../../../src/main/meaning/meaning-index';
import { signBits } from '../../../../src/main/library/vectors';

describe('scores behind search by meaning', () => {
  it('CLIPScore is 100 × cosine, and 0 for a picture that points away from its prompt', () => {
    const image = [0.6, 0.8, 0];
    expect(clipScore(image, [0.6, 0.8, 0])).toBeCloseTo(100, 10);
    expect(clipScore(image, [1, 0, 0])).toBeCloseTo(60, 10);
    expect(clipScore(image, [-1, 0, 0])).toBe(0);
  });

  it('diversity is the mean pairwise cosine distance: 0 for copies, 1 for orthogonal items, none for one item', () => {
    expect(meanPairwiseDistance([[1, 0], [1, 0], [1, 0]])).toBe(0);
    expect(meanPairwiseDistance([[1, 0], [0, 1]])).toBe(1);
    // Three pairs: (a,b) 1, (a,c) 2, (b,c) 1.
    expect(meanPairwiseDistance([[1, 0], [0, 1], [-1, 0]])).toBeCloseTo(4 / 3, 10);
    expect(meanPairwiseDistance([[1, 0]])).toBeNull();
  });

  it('packs sign bits least significant first, one per dimension, as sqlite-vec does', () => {
    const bits = signBits(Float32Array.from([0.5, -1, 0, 2, 0, 0, 0, 0, 3]));
    expect([...bits]).toEqual([0b00001001, 0b00000001]);
  });
});
