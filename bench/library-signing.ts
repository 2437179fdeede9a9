/**
 * Signing library pictures as they are committed (src/main/credentials/library-signing.ts): what
 * the hook adds to storing one 512×512 PNG as the engine writes it (provenance chunks included),
 * for a picture made from nothing and for an edit with its parent's stored file as ingredient.
 * Medians of BENCH_RUNS (default 15) after one warm-up; each run stores a different picture so the content-addressed store never finds it already there. Identity and licences are looked up
 * as the studio does, on every commit.
 */
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeImagePng, type ImageProvenance } from '../src/engine/media/png';
import { exportSigning } from '../src/main/credentials/handlers';
import { signCommittedPictures } from '../src/main/credentials/library-signing';
import { openLibrary, type CommitGenerationInput } from '../src/main/library';
import { dataLayout } from '../src/main/paths';
import { header, median, runBench, table, tempDir, verdict } from './lib';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SIZE = 512;

runBench(async () => {
  header('library-signing', `C2PA signing of a ${SIZE}² PNG as it is committed to the library, medians of ${RUNS}`);
  const layout = dataLayout(tempDir('library-signing'));
  const library = openLibrary(layout.libraryDir);
  const staging = tempDir('library-signing-staging');
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  // Noise (xorshift), so the PNG is as large as a real picture's (a pattern deflates to a few KB
  // and would hide the cost of hashing the whole file).
  let x = 0x9e3779b9;
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pixels[i] = x & 0xff;
  }
  const deps = {
    library,
    enabled: () => true,
    signing: () => exportSigning({ library, layout, catalog: { version: 1, models: [] }, version: 'bench' }),
  };
  let n = 0;
  /** A fresh staged picture, different from every earlier one (the seed is in its chunks). */
  const stage = (params: Record<string, unknown>): CommitGenerationInput => {
    const seed = ++n;
    const p: ImageProvenance = { model: 'sd', prompt: 'a lighthouse at dusk', negativePrompt: '', width: SIZE, height: SIZE, steps: 20, guidance: 7, scheduler: 'euler', seed, batch: 1, strength: 0.75 };
    const file = path.join(staging, `image-${seed}.png`);
    writeFileSync(file, encodeImagePng(pixels, SIZE, SIZE, 3, p));
    return { kind: 'image', model: 'sd', prompt: p.prompt, seed, params: { ...p, ...params }, files: [{ sourcePath: file, mime: 'image/png', role: 'image', width: SIZE, height: SIZE }] };
  };
  /**
   * The hook alone (what signing adds: identity lookup, parent read, sign, write + rename of the
   * staged file) and the commit that follows it (hash, fsync, rows), which is there with or without.
   */
  const time = async (params: Record<string, unknown>): Promise<{ hook: number; commit: number }> => {
    const hook: number[] = [];
    const commit: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const staged = stage(params);
      const start = performance.now();
      const signed = await signCommittedPictures(deps, staged);
      const signedAt = performance.now();
      await library.commitGeneration(signed);
      if (i === 0) continue;
      hook.push(signedAt - start);
      commit.push(performance.now() - signedAt);
    }
    return { hook: median(hook), commit: median(commit) };
  };
  try {
    const parent = await library.commitGeneration(await signCommittedPictures(deps, stage({})));
    const edit = { initAssetId: parent.assets[0]!.id };
    const created = await time({});
    const edited = await time(edit);
    const stored = library.resolveAsset(edit.initAssetId);
    if (stored) console.log(`a signed ${SIZE}² noise PNG as stored: ${statSync(stored.path).size} bytes`);
    table(`one ${SIZE}² PNG (ms)`, ['picture', 'signing hook', 'commit after it'], [
      ['txt2img (c2pa.created)', created.hook, created.commit],
      ['img2img (parent ingredient)', edited.hook, edited.commit],
    ]);
    verdict({ name: `library signing per ${SIZE}² PNG`, value: Math.max(created.hook, edited.hook), target: 100, kind: 'max', unit: ' ms' });
  } finally {
    library.close();
  }
});
