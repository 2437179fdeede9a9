import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { planTiles, upscaleTiled } from '../../../../src/engine/upscale/tiles';
import { bundled, convertedSession, PHOTO, rgbOf, runPlanar, toPlanar } from './helpers';

describe('tiled upscaling', () => {
  it('covers the picture with full-size tiles that overlap by at least the overlap', () => {
    const rows = planTiles(300, 200, 128, 16);
    const xs = rows[0]!.map((t) => t.x);
    expect(xs).toEqual([0, 112, 172]);
    expect(rows.map((r) => r[0]!.y)).toEqual([0, 72]);
    for (const t of rows.flat()) {
      expect(t.w).toBe(128);
      expect(t.h).toBe(128);
      expect(t.x + t.w).toBeLessThanOrEqual(300);
    }
    expect(planTiles(100, 60, 128, 16)).toEqual([[{ x: 0, y: 0, w: 100, h: 60 }]]);
    expect(planTiles(1024, 1024, 0, 16)).toEqual([[{ x: 0, y: 0, w: 1024, h: 1024 }]]);
  });

  // ~2.4 M source pixels through the real esrgan-slim ×2: about 20 s on 2 free cores, more on a shared machine.
  it('a 1024×1024 picture in 128 px tiles (overlap 16) stays within 2/255 of one untiled run', async () => {
    // A real photograph at 1024×1024: a 400 px crop enlarged (bicubic), so every tile sees photo content.
    const big = await sharp(PHOTO).extract({ left: 100, top: 0, width: 400, height: 400 }).resize(1024, 1024, { kernel: 'cubic' }).raw().toBuffer();
    const planar = toPlanar(new Uint8Array(big), 1024, 1024);
    const { session, scale } = await convertedSession(bundled('esrgan-slim-x2'));
    const run = (input: Float32Array, w: number, h: number) => runPlanar(session, input, w, h);
    const progress: [number, number][] = [];
    const tiled = await upscaleTiled(planar, 1024, 1024, { tile: 128, overlap: 16, scale, onTile: (done, total) => progress.push([done, total]) }, run);
    const whole = await upscaleTiled(planar, 1024, 1024, { tile: 0, overlap: 0, scale }, run);
    await session.release();
    expect(progress.length).toBe(81);
    expect(progress.at(-1)).toEqual([81, 81]);
    expect(tiled.length).toBe(2048 * 2048 * 3);
    let maxDiff = 0;
    let differing = 0;
    for (let i = 0; i < tiled.length; i++) {
      const d = Math.abs(tiled[i]! - whole[i]!);
      if (d > maxDiff) maxDiff = d;
      if (d > 0) differing++;
    }
    console.log(`tile 128 / overlap 16 vs untiled: max abs diff ${maxDiff}/255, ${differing} of ${tiled.length} values differ`);
    expect(maxDiff).toBeLessThanOrEqual(2);
  }, 240_000);

  it('stops between tiles when cancelled (the run in flight finishes, no new one starts) and reports each tile', async () => {
    const photo = await rgbOf(PHOTO);
    const planar = toPlanar(photo.data, photo.width, photo.height);
    const { session, scale } = await convertedSession(bundled('esrgan-slim-x2'));
    const controller = new AbortController();
    let runs = 0;
    const seen: number[] = [];
    const result = upscaleTiled(planar, photo.width, photo.height, { tile: 64, overlap: 8, scale, signal: controller.signal, onTile: (done) => { seen.push(done); if (done === 3) controller.abort(); } }, (input, w, h) => {
      runs++;
      return runPlanar(session, input, w, h);
    });
    await expect(result).rejects.toMatchObject({ code: 'CANCELLED' });
    await session.release();
    // The 4th tile's run was already under way (runs overlap the blending) and is let finish; no 5th starts.
    expect(runs).toBe(4);
    expect(seen).toEqual([1, 2, 3]);
  });
});
