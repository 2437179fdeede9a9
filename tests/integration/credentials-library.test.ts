import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/engine/media/png';
import { installationTrustAnchors } from '../../src/main/credentials/identity';
import { SIGNING_OFF_REASON } from '../../src/main/credentials/library-signing';
import { readCredentials } from '../../src/main/credentials/read';
import { rebuildLibrary } from '../../src/main/library/recovery';
import type { Studio } from '../../src/main/studio';
import type { Generation } from '../../src/shared/contract';
import type { ContentCredentials } from '../../src/shared/credentials';
import type { ImageParams } from '../../src/shared/params';
import type { UpscaleParams } from '../../src/shared/upscale';
import { dumpGenerations, sha256File, storeHashes } from '../unit/library/helpers';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const COMPOSITE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';

/** Pictures made through the job queue are signed as they are stored in the library (issue #19). */
describe('library pictures carry Content Credentials', () => {
  let fx: Awaited<ReturnType<typeof allFixtures>>;
  let dataDir: string;
  let studio: Studio;
  let anchors: string | undefined;
  let made: Generation;

  async function call(method: string, input: unknown): Promise<unknown> {
    const result = await studio.dispatch(method, input, { transport: 'cli' });
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  }

  async function generate(params: Partial<ImageParams> | UpscaleParams, parentId?: string): Promise<Generation> {
    const base: ImageParams = { model: fx.images.imageOracle, prompt: 'a lighthouse at dusk', negativePrompt: '', width: 64, height: 64, steps: 2, guidance: 5, scheduler: 'euler', seed: 7, batch: 1, strength: 0.75 };
    const job = studio.queue.enqueue({ kind: 'image', params: 'mode' in params && params.mode === 'upscale' ? params : { ...base, ...params }, ...(parentId ? { parentId } : {}) });
    const done = await studio.queue.waitFor(job.id);
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    return studio.library.getGeneration(done.generationIds[0]!);
  }

  const picture = (g: Generation) => g.assets.find((a) => a.role === 'image')!;
  const storedPath = (g: Generation) => studio.library.resolveAsset(picture(g).id)!.path;
  const credentialsOf = async (g: Generation, trusting: 'installation' | 'nobody' = 'installation'): Promise<ContentCredentials> =>
    readCredentials(fs.readFileSync(storedPath(g)), 'image/png', trusting === 'installation' ? { trustAnchorsPem: anchors } : {});

  beforeAll(async () => {
    fx = await allFixtures();
    dataDir = tempDataDir('atelier-c2pa-library-');
    studio = await openStudio(dataDir);
    made = await generate({});
    anchors = await installationTrustAnchors(dataDir);
  });

  afterAll(async () => {
    await studio?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a generated picture is stored signed: Valid, Trusted with the installation CA, c2pa.created by a trained model, addressed by the signed bytes', async () => {
    expect(anchors).toBeDefined();
    const plain = await credentialsOf(made, 'nobody');
    expect(plain.state).toBe('valid');
    const read = await credentialsOf(made);
    expect(read.state).toBe('trusted');
    expect(read.problems).toEqual([]);
    expect(read.actions).toEqual([expect.objectContaining({ action: 'c2pa.created', digitalSourceType: TRAINED })]);
    expect(read.ingredients).toEqual([]);
    expect(read.model).toBe(fx.images.imageOracle);
    // The content address is the hash of the file as stored, manifest included.
    const file = storedPath(made);
    expect(sha256File(file)).toBe(picture(made).sha256);
    expect(path.basename(file)).toBe(`${picture(made).sha256}.png`);
    // The thumbnail is not signed: only the picture is.
    const thumb = made.assets.find((a) => a.role === 'thumbnail')!;
    expect((await readCredentials(fs.readFileSync(studio.library.resolveAsset(thumb.id)!.path), thumb.mime)).state).toBe('none');
    expect(await call('credentials.read', { id: made.id })).toEqual({ items: expect.arrayContaining([expect.objectContaining({ assetId: picture(made).id, credentials: expect.objectContaining({ state: 'trusted' }) })]) });
  });

  it('the engine’s A1111 parameters, XMP DigitalSourceType and Atelier JSON survive signing (exiftool)', () => {
    const [tags] = JSON.parse(execFileSync('exiftool', ['-j', '-Parameters', '-DigitalSourceType', '-Atelier', storedPath(made)], { encoding: 'utf8' })) as { Parameters?: string; DigitalSourceType?: string; Atelier?: string }[];
    expect(tags?.DigitalSourceType).toBe(TRAINED);
    expect(tags?.Parameters).toMatch(/^a lighthouse at dusk\n/);
    expect(tags?.Parameters).toContain('Seed: 7');
    expect(JSON.parse(tags!.Atelier!)).toMatchObject({ kind: 'image', params: { prompt: 'a lighthouse at dusk', seed: 7 } });
  });

  it('img2img, inpaint and upscale list their parent’s stored, signed file as ingredient and say c2pa.edited', async () => {
    const parentAsset = picture(made).id;
    const mask = encodePng(new Uint8Array(64 * 64 * 3).map((_, i) => ((i / 3) % 64 >= 32 ? 255 : 0)), 64, 64, 3);
    const { assetId: maskAssetId } = (await call('image.saveMask', { png: `data:image/png;base64,${mask.toString('base64')}` })) as { assetId: string };
    const edits: [string, Generation][] = [
      ['img2img', await generate({ initAssetId: parentAsset }, made.id)],
      ['inpaint', await generate({ initAssetId: parentAsset, maskAssetId, maskBlur: 0, strength: 1 }, made.id)],
      ['upscale', await generate({ mode: 'upscale', model: 'esrgan-slim-x2', sourceAssetId: parentAsset, tile: 0, overlap: 0 }, made.id)],
    ];
    for (const [kind, edit] of edits) {
      const read = await credentialsOf(edit);
      expect(read.state, kind).toBe('trusted');
      expect(read.actions.map((a) => a.action), kind).toEqual(['c2pa.opened', 'c2pa.edited']);
      expect(read.actions[1], kind).toEqual(expect.objectContaining({ description: kind, digitalSourceType: COMPOSITE }));
      // The parent is its stored file, which carries its own credentials.
      expect(read.ingredients, kind).toEqual([expect.objectContaining({ relationship: 'parentOf', hasCredentials: true, title: expect.stringContaining(made.id) })]);
    }
  });

  it('exporting a signed library file signs the export as a new manifest that opens the stored file; with export signing off it carries none', async () => {
    const exported = async (): Promise<Buffer> => {
      const { files } = (await call('library.export', { ids: [made.id] })) as { files: string[] };
      return fs.readFileSync(files.find((f) => f.endsWith('.png'))!);
    };
    const signed = await readCredentials(await exported(), 'image/png', { trustAnchorsPem: anchors });
    expect(signed.state).toBe('trusted');
    expect(signed.problems).toEqual([]);
    expect(signed.actions.map((a) => [a.action, a.digitalSourceType])).toEqual([
      ['c2pa.opened', TRAINED],
      ['c2pa.edited.metadata', null],
    ]);
    expect(signed.ingredients).toEqual([expect.objectContaining({ relationship: 'parentOf', hasCredentials: true, title: expect.stringContaining(made.id) })]);

    await call('settings.set', { signExports: false });
    try {
      // Not a stale manifest that would read as "invalid": none at all.
      expect((await readCredentials(await exported(), 'image/png')).state).toBe('none');
    } finally {
      await call('settings.set', { signExports: true });
    }
  });

  it('with library signing off a picture is stored unsigned, and the detail says why', async () => {
    await call('settings.set', { signLibrary: false });
    try {
      const g = await generate({ seed: 8 });
      expect((await credentialsOf(g)).state).toBe('none');
      expect(await call('credentials.read', { id: g.id })).toMatchObject({ unsigned: SIGNING_OFF_REASON });
    } finally {
      await call('settings.set', { signLibrary: true });
    }
  });

  it('a signing failure still stores the picture, unsigned, with the reason', async () => {
    const key = path.join(dataDir, 'credentials', 'signing-key.pem');
    const good = fs.readFileSync(key);
    fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    try {
      const g = await generate({ seed: 9 });
      expect((await credentialsOf(g)).state).toBe('none');
      expect(sha256File(storedPath(g))).toBe(picture(g).sha256);
      const { unsigned } = (await call('credentials.read', { id: g.id })) as { unsigned?: string };
      expect(unsigned).toMatch(/^signing failed: /);
    } finally {
      fs.writeFileSync(key, good);
    }
  });

  it('a rebuild from the records gives the same rows, and no stored file changed', async () => {
    const libraryDir = studio.layout.libraryDir;
    await studio.close();
    const before = dumpGenerations(libraryDir);
    const files = storeHashes(libraryDir);
    for (const [name, hash] of Object.entries(files)) expect(path.basename(name, path.extname(name)), name).toBe(hash);
    fs.rmSync(path.join(libraryDir, 'atelier.db'));
    const rebuilt = await rebuildLibrary(libraryDir);
    expect(rebuilt.missingFiles).toEqual([]);
    expect(dumpGenerations(libraryDir)).toEqual(before);
    expect(storeHashes(libraryDir)).toEqual(files);
    studio = await openStudio(dataDir);
  });
});
