/**
 * Where the image pipeline's time outside session.run goes (512×512 oracle fixture): each fixed
 * cost timed alone, in-process. A diagnostic companion of image-pipeline.ts, not a ratio bench.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { oraclePicture } from '../scripts/fixtures/image-oracle';
import { ClipTokenizer } from '../src/engine/image/clip-tokenizer';
import { latentPreview } from '../src/engine/image/pixels';
import { encodePng } from '../src/engine/media/png';
import { checkModelFile } from '../src/engine/runtime/model-files';
import { fixtures, header, median, runBench, table } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function time(fn: () => unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

runBench(async () => {
  header('profile-image', `fixed costs of generateImage outside session.run, 512×512, ${RUNS} runs each (medians)`);
  const fx = await fixtures();
  const dir = fx.images.imageOracle;
  const picture = oraclePicture(512, 512);
  const latent = new Float32Array(4 * 64 * 64).map((_, i) => Math.sin(i));
  const rows: (string | number)[][] = [];
  rows.push(['ClipTokenizer.fromDir', await time(() => ClipTokenizer.fromDir(join(dir, 'tokenizer')))]);
  rows.push(['checkModelFile (cached facts) ×3', await time(async () => { for (const p of ['text_encoder', 'unet', 'vae_decoder']) await checkModelFile(join(dir, p, 'model.onnx')); })]);
  for (const level of [9, 6, 1]) rows.push([`encodePng 512² level ${level}`, await time(() => encodePng(picture, 512, 512, 3, [], { level }))]);
  rows.push(['latentPreview 64² (one step)', await time(() => latentPreview(latent, 64, 64))]);
  rows.push(['webp thumbnail 256 from raw pixels (sharp)', await time(() => sharp(picture, { raw: { width: 512, height: 512, channels: 3 } }).resize(256, 256, { fit: 'inside' }).webp({ quality: 80 }).toBuffer())]);
  const png = encodePng(picture, 512, 512, 3);
  rows.push(['webp thumbnail 256 from the PNG (sharp)', await time(() => sharp(png).resize(256, 256, { fit: 'inside' }).webp({ quality: 80 }).toBuffer())]);
  table('ms', ['step', 'median ms'], rows);
  console.log(`PNG sizes: level 9 ${encodePng(picture, 512, 512, 3, [], { level: 9 }).length} B, level 6 ${png.length} B, level 1 ${encodePng(picture, 512, 512, 3, [], { level: 1 }).length} B`);
});
