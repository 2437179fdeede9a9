/** The numbers search by meaning measures, on normalised vectors (see meaning-index.ts). */

function dot(a: Float32Array | number[], b: Float32Array | number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** CLIPScore as Hessel et al. define it (w = 100): 100 × max(cos(image, prompt), 0). */
export function clipScore(image: Float32Array | number[], prompt: Float32Array | number[]): number {
  return 100 * Math.max(dot(image, prompt), 0);
}

/** Mean pairwise cosine distance (1 − cos) of normalised vectors; null for fewer than two. */
export function meanPairwiseDistance(list: (Float32Array | number[])[]): number | null {
  if (list.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      sum += 1 - dot(list[i]!, list[j]!);
      pairs++;
    }
  }
  return sum / pairs;
}
