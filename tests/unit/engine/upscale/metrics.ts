/**
 * Image-quality measures as super-resolution papers report them: on the luma channel (BT.601 Y
 * of 8-bit RGB), with `border` pixels cropped on each side. PSNR in dB; SSIM after Wang et al.
 * 2004 (11×11 Gaussian window, σ 1.5, K1 0.01, K2 0.03, L 255).
 */
function luma(rgb: Uint8Array, width: number, height: number, border: number): { y: Float64Array; w: number; h: number } {
  const w = width - 2 * border;
  const h = height - 2 * border;
  const y = new Float64Array(w * h);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const i = ((r + border) * width + c + border) * 3;
      y[r * w + c] = 16 + (65.481 * rgb[i]! + 128.553 * rgb[i + 1]! + 24.966 * rgb[i + 2]!) / 255;
    }
  return { y, w, h };
}

export function psnr(a: Uint8Array, b: Uint8Array, width: number, height: number, border = 0): number {
  const A = luma(a, width, height, border);
  const B = luma(b, width, height, border);
  let se = 0;
  for (let i = 0; i < A.y.length; i++) se += (A.y[i]! - B.y[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / A.y.length));
}

export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number, border = 0): number {
  const A = luma(a, width, height, border);
  const B = luma(b, width, height, border);
  const { w, h } = A;
  const radius = 5;
  const g: number[] = [];
  for (let i = -radius; i <= radius; i++) g.push(Math.exp(-(i * i) / (2 * 1.5 * 1.5)));
  const gs = g.reduce((x, y) => x + y, 0);
  const k = g.map((v) => v / gs);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let sum = 0;
  let count = 0;
  for (let r = radius; r < h - radius; r++)
    for (let c = radius; c < w - radius; c++) {
      let ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (let dy = -radius; dy <= radius; dy++)
        for (let dx = -radius; dx <= radius; dx++) {
          const wgt = k[dy + radius]! * k[dx + radius]!;
          const va = A.y[(r + dy) * w + c + dx]!;
          const vb = B.y[(r + dy) * w + c + dx]!;
          ma += wgt * va;
          mb += wgt * vb;
          saa += wgt * va * va;
          sbb += wgt * vb * vb;
          sab += wgt * va * vb;
        }
      const va = saa - ma * ma;
      const vb = sbb - mb * mb;
      const cov = sab - ma * mb;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  return sum / count;
}

/** Keys' cubic kernel with a = −0.5 (MATLAB's "bicubic"). */
function cubic(x: number): number {
  const ax = Math.abs(x);
  if (ax <= 1) return 1.5 * ax ** 3 - 2.5 * ax ** 2 + 1;
  if (ax < 2) return -0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2;
  return 0;
}

/** Weights and source indices of one axis of MATLAB's imresize(…, 1/factor, 'bicubic') (antialiased, edges replicated). */
function axisWeights(inLength: number, factor: number): { index: number[]; weight: number[] }[] {
  const outLength = Math.round(inLength / factor);
  const width = 4 * factor;
  return Array.from({ length: outLength }, (_, o) => {
    const center = (o + 0.5) * factor - 0.5;
    const first = Math.floor(center - width / 2);
    const index: number[] = [];
    const weight: number[] = [];
    for (let i = first; i <= first + Math.ceil(width) + 1; i++) {
      const w = cubic((center - i) / factor) / factor;
      if (w === 0) continue;
      index.push(Math.min(inLength - 1, Math.max(0, i)));
      weight.push(w);
    }
    const sum = weight.reduce((a, b) => a + b, 0);
    return { index, weight: weight.map((w) => w / sum) };
  });
}

/**
 * Reduces interleaved RGB by an integer factor the way the DIV2K low-resolution pictures the
 * models were trained on were made: MATLAB imresize bicubic with antialiasing (the kernel is
 * stretched by the factor), rows then columns, rounded to 8 bits.
 */
export function bicubicDownscale(rgb: Uint8Array, width: number, height: number, factor: number): { data: Uint8Array; width: number; height: number } {
  const xs = axisWeights(width, factor);
  const ys = axisWeights(height, factor);
  const W = xs.length;
  const H = ys.length;
  const tmp = new Float64Array(W * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        const { index, weight } = xs[x]!;
        for (let k = 0; k < index.length; k++) v += weight[k]! * rgb[(y * width + index[k]!) * 3 + c]!;
        tmp[(y * W + x) * 3 + c] = v;
      }
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        const { index, weight } = ys[y]!;
        for (let k = 0; k < index.length; k++) v += weight[k]! * tmp[(index[k]! * W + x) * 3 + c]!;
        out[(y * W + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
  return { data: out, width: W, height: H };
}
