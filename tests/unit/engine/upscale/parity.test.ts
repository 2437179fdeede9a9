import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_UPSCALERS } from '../../../../src/shared/upscale';
import { bundledDir, convertedSession, PHOTO, planarToNhwc, rgbOf, runPlanar, toPlanar } from './helpers';
import { loadTfjsModel, runTfjs } from './tfjs-reference';

/**
 * Each bundled model converted to ONNX gives what TF.js itself gives on a real photograph, within
 * 1e-3 of the output's range (max |ONNX − TF.js| / max |TF.js|), before clamping. TF.js runs in
 * pure JavaScript and is slow, so the crops are small (16 px; 12 px for thick).
 */
const results: string[] = [];
afterAll(() => console.log(`ONNX vs TF.js (relative max abs diff):\n${results.join('\n')}`));

describe('converted ESRGAN models match TF.js', () => {
  for (const model of BUNDLED_UPSCALERS) {
    it(`${model.id} matches TF.js on a photograph`, async () => {
      const size = model.family === 'esrgan-thick' ? 12 : 16;
      const crop = await rgbOf(PHOTO, { left: 96, top: 120, width: size, height: size });
      const planar = toPlanar(crop.data, size, size);
      const { session, scale, valueRange } = await convertedSession(model, 1);
      expect(scale).toBe(model.scale);
      const onnx = await runPlanar(session, planar, size, size);
      await session.release();

      const tfModel = await loadTfjsModel(bundledDir(model));
      const ref = runTfjs(tfModel, planarToNhwc(planar, size, size, valueRange), size, size);
      tfModel.dispose();
      const O = size * scale;
      expect(ref.width).toBe(O);
      expect(onnx.length).toBe(3 * O * O);
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < O * O; i++)
        for (let c = 0; c < 3; c++) {
          const a = onnx[c * O * O + i]! * valueRange;
          const b = ref.data[i * 3 + c]!;
          maxDiff = Math.max(maxDiff, Math.abs(a - b));
          maxRef = Math.max(maxRef, Math.abs(b));
        }
      const relative = maxDiff / maxRef;
      results.push(`${model.id}: ${relative.toExponential(2)} (max abs ${maxDiff.toExponential(2)} on 0–${valueRange})`);
      expect(maxRef).toBeGreaterThan(0.5 * valueRange);
      expect(relative).toBeLessThan(1e-3);
    }, 180_000);
  }
});
