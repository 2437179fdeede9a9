import { StudioError } from '../../shared/errors';

/**
 * Tiled super-resolution for pictures of any size, with memory bounded by the tile size.
 *
 * - Tiles of `tile` source pixels step by `tile − overlap`; the last tile of a row or column is
 *   moved back to end on the border, so every tile has the full size (no thin slivers for the
 *   model to see) and every model input shape repeats (cheap for onnxruntime).
 * - Where two tiles overlap, their outputs are blended with weights that ramp linearly across
 *   the middle of the overlap (feathering): no hard seam, and the pixels next to a tile's edge,
 *   which the model computed from zero padding, do not count. Neighbouring weights sum to one, and
 *   the result is divided by the accumulated weight anyway.
 * - Output is accumulated one row of tiles at a time (a band of `tile·scale` output rows plus the
 *   overlap carried to the next band) and rounded into the final 8-bit picture as soon as rows are
 *   complete: a 2048² ×4 upscale holds the 8-bit result (200 MB RGB) plus one float band, never a
 *   full float canvas (1 GB).
 * - Cancellation is checked between tiles; progress is reported after every tile.
 */

export interface TileRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Start offsets along one axis of length n. */
function axisStarts(n: number, tile: number, overlap: number): number[] {
  if (tile <= 0 || n <= tile) return [0];
  const step = Math.max(1, tile - overlap);
  const starts: number[] = [];
  for (let s = 0; s + tile < n; s += step) starts.push(s);
  starts.push(n - tile);
  return starts;
}

/** The tiles of a width×height picture, row by row. tile 0 = one tile for the whole picture. */
export function planTiles(width: number, height: number, tile: number, overlap: number): TileRect[][] {
  const ov = Math.min(overlap, Math.floor(tile / 2));
  const xs = axisStarts(width, tile, ov);
  const ys = axisStarts(height, tile, ov);
  return ys.map((y) => xs.map((x) => ({ x, y, w: tile <= 0 ? width : Math.min(tile, width), h: tile <= 0 ? height : Math.min(tile, height) })));
}

/**
 * Feather weights along one axis of a tile, in output pixels, for an overlap of `before` source
 * px with the previous tile and `after` with the next. Inside an overlap the outer quarter (next
 * to this tile's own edge, where its convolutions saw zero padding instead of picture) gets
 * weight 0, the middle half ramps linearly to 1, and the inner quarter keeps 1; the neighbour's
 * ramp is the mirror image, so the two always sum to one.
 */
function featherAxis(length: number, before: number, after: number, scale: number): Float32Array {
  const n = length * scale;
  const w = new Float32Array(n).fill(1);
  const ramp = (i: number, overlap: number): number => {
    const span = overlap * scale;
    const t = (i + 0.5 - span / 4) / (span / 2);
    return Math.min(1, Math.max(0, t));
  };
  for (let i = 0; i < before * scale; i++) w[i] = Math.min(w[i]!, ramp(i, before));
  for (let i = 0; i < after * scale; i++) w[n - 1 - i] = Math.min(w[n - 1 - i]!, ramp(i, after));
  return w;
}

export interface TiledOptions {
  tile: number;
  overlap: number;
  scale: number;
  signal?: AbortSignal;
  onTile?(done: number, total: number): void;
}

/** Runs the model on one tile: planar RGB float 0–1 (3·h·w) in, planar RGB (3·h·s·w·s) out. */
export type TileRunner = (input: Float32Array, width: number, height: number) => Promise<Float32Array>;

/**
 * Upscales planar RGB (3·H·W floats in 0–1) and returns interleaved 8-bit RGB of (W·s)×(H·s).
 * Values outside 0–1 (the models overshoot) are clamped.
 *
 * The next tile's model run starts before the previous tile's output is blended in, so the
 * blending (JavaScript, this thread) overlaps the run (onnxruntime's threads): the wall time
 * stays close to the sum of the runs. At most one run is in flight; a cancel lets it finish and
 * throws before the next one starts.
 */
export async function upscaleTiled(planar: Float32Array, width: number, height: number, options: TiledOptions, runTile: TileRunner): Promise<Uint8Array> {
  const s = options.scale;
  const rows = planTiles(width, height, options.tile, options.overlap);
  const total = rows.reduce((n, r) => n + r.length, 0);
  const OW = width * s;
  const OH = height * s;
  const out = new Uint8Array(OW * OH * 3);
  const plane = width * height;

  // The float band: output rows [bandTop, bandTop + bandRows), one plane per channel.
  const bandRows = rows[0]![0]!.h * s;
  const bandPlane = bandRows * OW;
  let bandTop = 0;
  const acc = new Float32Array(3 * bandPlane);
  const weight = new Float32Array(bandPlane);
  let done = 0;

  /** Rows [bandTop, untilRow) are complete: round them into `out`, move the rest to the band's top. */
  const flush = (untilRow: number): void => {
    const n = untilRow - bandTop;
    if (n <= 0) return;
    for (let r = 0; r < n; r++) {
      const o0 = (bandTop + r) * OW * 3;
      const w0 = r * OW;
      for (let x = 0; x < OW; x++) {
        const wsum = weight[w0 + x]!;
        const inv = wsum > 0 ? 255 / wsum : 0;
        const o = o0 + x * 3;
        for (let c = 0; c < 3; c++) {
          const v = acc[c * bandPlane + w0 + x]! * inv;
          out[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
      }
    }
    const keep = (bandRows - n) * OW;
    for (let c = 0; c < 3; c++) {
      acc.copyWithin(c * bandPlane, c * bandPlane + n * OW, (c + 1) * bandPlane);
      acc.fill(0, c * bandPlane + keep, (c + 1) * bandPlane);
    }
    weight.copyWithin(0, n * OW, bandPlane);
    weight.fill(0, keep);
    bandTop = untilRow;
  };

  interface Placed {
    t: TileRect;
    wx: Float32Array;
    wy: Float32Array;
    /** Output row up to which the picture is complete once this tile (the last of its row) is in; null otherwise. */
    flushTo: number | null;
  }

  const blend = ({ t, wx, wy }: Placed, result: Float32Array): void => {
    const tw = t.w * s;
    const th = t.h * s;
    if (result.length !== 3 * tw * th) throw new StudioError('MODEL_INVALID', `The upscale model returned ${result.length} values for a ${t.w}×${t.h} tile; expected ${3 * tw * th} (×${s}).`);
    const ox = t.x * s;
    for (let y = 0; y < th; y++) {
      const rowBase = (t.y * s + y - bandTop) * OW + ox;
      const wyv = wy[y]!;
      for (let x = 0; x < tw; x++) weight[rowBase + x] = weight[rowBase + x]! + wyv * wx[x]!;
      for (let c = 0; c < 3; c++) {
        const a = c * bandPlane + rowBase;
        const src = c * tw * th + y * tw;
        for (let x = 0; x < tw; x++) acc[a + x] = acc[a + x]! + wyv * wx[x]! * result[src + x]!;
      }
    }
  };

  const placed: Placed[] = [];
  for (const [ri, row] of rows.entries()) {
    const next = rows[ri + 1]?.[0];
    const prev = rows[ri - 1]?.[0];
    for (const [ci, t] of row.entries()) {
      const left = row[ci - 1];
      const right = row[ci + 1];
      placed.push({
        t,
        wx: featherAxis(t.w, left ? left.x + left.w - t.x : 0, right ? t.x + t.w - right.x : 0, s),
        wy: featherAxis(t.h, prev ? prev.y + prev.h - t.y : 0, next ? t.y + t.h - next.y : 0, s),
        flushTo: ci === row.length - 1 ? (next ? next.y * s : OH) : null,
      });
    }
  }

  const cut = ({ t }: Placed): Float32Array => {
    const input = new Float32Array(3 * t.w * t.h);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < t.h; y++) {
        const src = c * plane + (t.y + y) * width + t.x;
        input.set(planar.subarray(src, src + t.w), c * t.w * t.h + y * t.w);
      }
    return input;
  };

  const finish = (tile: Placed, result: Float32Array): void => {
    blend(tile, result);
    if (tile.flushTo !== null) flush(tile.flushTo);
    done++;
    options.onTile?.(done, total);
  };

  let inFlight: { tile: Placed; result: Promise<Float32Array> } | null = null;
  for (const tile of placed) {
    if (options.signal?.aborted) break;
    // One run at a time: wait for the previous run, start this one, then blend the previous
    // tile while this one runs.
    const previous = inFlight ? { tile: inFlight.tile, result: await inFlight.result } : null;
    inFlight = null;
    if (options.signal?.aborted) break;
    const started = { tile, result: runTile(cut(tile), tile.t.w, tile.t.h) };
    // A run that fails while the previous tile is blended is reported by the await above, not as unhandled.
    started.result.catch(() => undefined);
    inFlight = started;
    if (previous) finish(previous.tile, previous.result);
  }
  if (inFlight) {
    const result = await inFlight.result;
    if (options.signal?.aborted) throw new StudioError('CANCELLED', 'The upscale was cancelled.');
    finish(inFlight.tile, result);
  }
  if (options.signal?.aborted) throw new StudioError('CANCELLED', 'The upscale was cancelled.');
  return out;
}
