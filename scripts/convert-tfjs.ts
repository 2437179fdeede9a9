/**
 * `npx tsx scripts/convert-tfjs.ts [DIR --out FILE.onnx]`: converts a TF.js layers
 * super-resolution folder (model.json + shards) to ONNX with the converter the engine uses.
 * Without arguments it converts every bundled ESRGAN model into `.cache/upscalers/` and prints
 * scale, size and parameters (the app does the same on first use, into its models/converted/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { convertTfjsModel } from '../src/engine/upscale/convert-tfjs';
import { bundledUpscalerDir } from '../src/main/upscale/bundled';
import { BUNDLED_UPSCALERS } from '../src/shared/upscale';

async function convert(dir: string, out: string): Promise<void> {
  const t0 = performance.now();
  const model = await convertTfjsModel(dir);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, model.onnx);
  console.log(`${out}: ×${model.scale}, ${(model.onnx.length / 1e6).toFixed(1)} MB, ${model.parameters.toLocaleString('en')} parameters, ${model.layers} layers, values 0–${model.valueRange} in TF.js, ${(performance.now() - t0).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  const root = path.resolve(__dirname, '..');
  if (positionals[0]) {
    const dir = path.resolve(positionals[0]);
    await convert(dir, path.resolve(values.out ?? `${path.basename(dir)}.onnx`));
    return;
  }
  for (const model of BUNDLED_UPSCALERS) {
    const dir = bundledUpscalerDir(model, root);
    if (!dir) throw new Error(`${model.packageName} is not installed: run npm ci`);
    await convert(dir, path.join(root, '.cache', 'upscalers', `${model.id}.onnx`));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
