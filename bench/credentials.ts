/**
 * Content Credentials: signing a 512×512 PNG (with Atelier's provenance chunks) with the
 * installation's identity, plain and as an edit with a 512×512 parent ingredient, and reading +
 * validating it with the CA as anchor; medians of 15 after one warm-up. Also the size it adds.
 */
import sharp from 'sharp';
import { ensureSigningIdentity } from '../src/main/credentials/identity';
import { readCredentials } from '../src/main/credentials/read';
import { signWithCredentials, type SignInput } from '../src/main/credentials/sign';
import { header, median, runBench, table, tempDir, verdict } from './lib';

const RUNS = 15;

runBench(async () => {
  header('credentials', `C2PA sign / read of a 512×512 PNG, medians of ${RUNS}`);
  const identity = await ensureSigningIdentity(tempDir('credentials'));
  const pixels = Buffer.alloc(512 * 512 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31) & 0xff;
  const png = await sharp(pixels, { raw: { width: 512, height: 512, channels: 3 } }).png().toBuffer();
  const input: SignInput = {
    bytes: png,
    mime: 'image/png',
    title: 'bench.png',
    provenance: { version: 1, generator: 'Atelier', id: 'bench', kind: 'image', model: 'sd', modelDigest: null, prompt: 'bench', negativePrompt: '', seed: 1, params: { steps: 20 }, provider: 'cpu', parentId: null, lineage: [], created: new Date(0).toISOString(), createdAt: 0 },
    parent: null,
    licence: null,
    generatorVersion: 'bench',
  };
  const edit: SignInput = { ...input, parent: { bytes: png, mime: 'image/png', title: 'parent.png', generationId: null }, provenance: { ...input.provenance, params: { initAssetId: 'a' } } };
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    await fn();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await fn();
      times.push(performance.now() - start);
    }
    return median(times);
  };
  const signed = await signWithCredentials(identity, input);
  const sign = await time(() => signWithCredentials(identity, input));
  const signEdit = await time(() => signWithCredentials(identity, edit));
  const read = await time(() => readCredentials(signed, 'image/png', { trustAnchorsPem: identity.caPem }));
  table('512×512 PNG (ms)', ['step', 'median'], [
    ['sign (c2pa.created)', sign],
    ['sign edit (parent ingredient)', signEdit],
    ['read + validate (trusted)', read],
  ]);
  console.log(`manifest adds ${signed.length - png.length} bytes to a ${png.length}-byte PNG`);
  verdict({ name: 'credentials sign 512² PNG', value: sign, target: 100, kind: 'max', unit: ' ms' });
});
