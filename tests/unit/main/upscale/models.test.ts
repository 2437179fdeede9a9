import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UpscaleModels } from '../../../../src/main/upscale/models';

const ROOT = path.resolve(__dirname, '../../../..');

function registry(): { upscalers: UpscaleModels; modelsDir: string } {
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-upscalers-'));
  return { upscalers: new UpscaleModels({ modelsDir, packagesFrom: ROOT }), modelsDir };
}

describe('upscale model registry', () => {
  it('lists the six bundled ESRGAN models as installed, with scale and licence, and resolves them to their npm folders', () => {
    const { upscalers } = registry();
    const items = upscalers.list();
    expect(items.map((m) => m.id)).toEqual(['esrgan-slim-x2', 'esrgan-slim-x4', 'esrgan-medium-x2', 'esrgan-medium-x4', 'esrgan-thick-x2', 'esrgan-thick-x4']);
    expect(items.every((m) => m.installed && m.source === 'bundled' && m.licence?.startsWith('MIT'))).toBe(true);
    expect(upscalers.resolve('esrgan-thick-x4', false)).toBe(path.join(ROOT, 'node_modules/@upscalerjs/esrgan-thick/models/x4'));
  });

  it('refuses an unknown model, and a folder path unless it comes from the command line', () => {
    const { upscalers, modelsDir } = registry();
    expect(() => upscalers.resolve('realesrgan-x4plus', true)).toThrow(expect.objectContaining({ code: 'MODEL_NOT_INSTALLED' }));
    expect(() => upscalers.resolve(modelsDir, false)).toThrow(expect.objectContaining({ code: 'MODEL_NOT_INSTALLED' }));
    expect(upscalers.resolve(modelsDir, true)).toBe(modelsDir);
  });

  it('reports a damaged list of imports instead of reading it as empty (an import would overwrite it)', () => {
    const { upscalers, modelsDir } = registry();
    writeFileSync(path.join(modelsDir, 'upscalers.json'), '{"version": 1, "models": [');
    expect(() => upscalers.list()).toThrow(/damaged/);
  });
});
