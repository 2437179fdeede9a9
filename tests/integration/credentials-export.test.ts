import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSigningIdentity, type SigningIdentity } from '../../src/main/credentials/identity';
import { credentialsCommand } from '../../src/main/credentials/cli';
import { credentialHandlers, importedCredentials } from '../../src/main/credentials/handlers';
import { readCredentials } from '../../src/main/credentials/read';
import { importPngFolder } from '../../src/main/library-io/import';
import { dataLayout } from '../../src/main/paths';
import { openLibrary, type Library } from '../../src/main/library';
import { exportGenerations } from '../../src/main/library-io/export';
import { readChunks } from '../../src/shared/png-chunks';
import { seedLibrary, tempDir, type Seeded } from './helpers/library-io-fixtures';

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

let base: string;
let library: Library;
let seeded: Seeded;
let identity: SigningIdentity;
let exported: Map<string, string>;

beforeAll(async () => {
  base = tempDir('atelier-c2pa-');
  library = openLibrary(path.join(base, 'library'));
  seeded = await seedLibrary(library, path.join(base, 'scratch'), 1);
  identity = await ensureSigningIdentity(path.join(base, 'data'));
  const ids = [seeded.images[0]!.id, seeded.child.id, seeded.music.id, seeded.text.id];
  const result = await exportGenerations(library, ids, path.join(base, 'out'), {
    signing: { identity, generatorVersion: '0.1.0-test', licenceOf: (model) => (model === 'tiny-sd' ? { id: 'openrail', url: 'https://example.org/openrail' } : null) },
  });
  exported = new Map(ids.map((id) => [id, result.files.find((f) => f.includes(id.slice(-8).toLowerCase()))!]));
});

afterAll(() => {
  library.close();
  fs.rmSync(base, { recursive: true, force: true });
});

const png = (file: string) => fs.readFileSync(file);

describe('exported pictures carry Content Credentials', () => {
  it('a generated picture validates as Valid, and Trusted with the installation CA as anchor, saying c2pa.created by a trained model', async () => {
    const bytes = png(exported.get(seeded.images[0]!.id)!);
    const plain = await readCredentials(bytes, 'image/png');
    expect(plain.state).toBe('valid');
    expect(plain.problems).toEqual([]);
    expect(plain.signer).toMatch(/^Atelier on /);
    expect(plain.actions).toEqual([expect.objectContaining({ action: 'c2pa.created', digitalSourceType: TRAINED, softwareAgent: 'Atelier 0.1.0-test' })]);
    expect(plain.ingredients).toEqual([]);
    expect(plain.model).toBe('tiny-sd');
    expect(plain.licence).toContain('openrail');

    const anchored = await readCredentials(bytes, 'image/png', { trustAnchorsPem: identity.caPem });
    expect(anchored.state).toBe('trusted');
  });

  it('one flipped pixel byte makes it Invalid', async () => {
    const bytes = Buffer.from(png(exported.get(seeded.images[0]!.id)!));
    const idat = readChunks(bytes).find((c) => c.type === 'IDAT')!;
    // The chunk's data starts 8 bytes after its offset (length + type).
    const at = bytes.indexOf(Buffer.from('IDAT', 'ascii')) + 4 + Math.floor(idat.data.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    const read = await readCredentials(bytes, 'image/png', { trustAnchorsPem: identity.caPem });
    expect(read.state).toBe('invalid');
    expect(read.problems.length).toBeGreaterThan(0);
  });

  it('a picture made from another lists that picture as its parent ingredient and says c2pa.edited', async () => {
    const read = await readCredentials(png(exported.get(seeded.child.id)!), 'image/png', { trustAnchorsPem: identity.caPem });
    expect(read.state).toBe('trusted');
    expect(read.actions.map((a) => a.action)).toEqual(['c2pa.opened', 'c2pa.edited']);
    expect(read.actions[1]).toEqual(expect.objectContaining({ description: 'img2img', digitalSourceType: expect.stringMatching(/compositeWithTrainedAlgorithmicMedia$/) }));
    expect(read.ingredients).toEqual([expect.objectContaining({ relationship: 'parentOf', title: expect.stringContaining(seeded.images[0]!.id) })]);
  });

  it('exiftool still reads the IPTC DigitalSourceType and the A1111 parameters of a signed file', () => {
    const file = exported.get(seeded.images[0]!.id)!;
    const [tags] = JSON.parse(execFileSync('exiftool', ['-j', '-Parameters', '-DigitalSourceType', file], { encoding: 'utf8' })) as { Parameters?: string; DigitalSourceType?: string }[];
    expect(tags?.DigitalSourceType).toBe(TRAINED);
    expect(tags?.Parameters).toMatch(/^A lighthouse at dusk, number 0/);
  });

  it('WAV is signed too; Markdown is left as text, since C2PA has no place for a manifest in it', async () => {
    const wav = await readCredentials(png(exported.get(seeded.music.id)!), 'audio/wav', { trustAnchorsPem: identity.caPem });
    expect(wav.state).toBe('trusted');
    expect(wav.actions[0]).toEqual(expect.objectContaining({ action: 'c2pa.created', digitalSourceType: TRAINED }));
    const markdown = fs.readFileSync(exported.get(seeded.text.id)!, 'utf8');
    expect(markdown.startsWith('---\ngenerator: Atelier')).toBe(true);
  });

  it('an unsigned picture has none', async () => {
    const unsigned = fs.readFileSync(library.resolveAsset(seeded.images[0]!.assets[0]!.id)!.path);
    expect((await readCredentials(unsigned, 'image/png')).state).toBe('none');
  });
});

describe('importing a signed file', () => {
  it('shows its credentials in the library; an unsigned picture says none', async () => {
    const folder = path.join(base, 'to-import');
    fs.mkdirSync(folder);
    fs.copyFileSync(exported.get(seeded.child.id)!, path.join(folder, 'signed.png'));
    const other = openLibrary(path.join(base, 'other-library'));
    try {
      const imported = await importPngFolder(other, folder);
      expect(imported.ids).toHaveLength(1);
      const handlers = credentialHandlers({ library: other, layout: dataLayout(path.join(base, 'data')), catalog: { version: 1, models: [] }, version: 'test' });
      const [signed] = (await handlers['credentials.read']({ id: imported.ids[0]! }, { transport: 'cli' })).items;
      expect(signed?.credentials.state).toBe('trusted');
      expect(signed?.credentials.actions.map((a) => a.action)).toContain('c2pa.edited');
      expect(signed?.credentials.ingredients).toHaveLength(1);

      const own = credentialHandlers({ library, layout: dataLayout(path.join(base, 'data')), catalog: { version: 1, models: [] }, version: 'test' });
      const [unsigned] = (await own['credentials.read']({ id: seeded.images[0]!.id }, { transport: 'cli' })).items;
      expect(unsigned?.credentials.state).toBe('none');
      expect(await importedCredentials({ library: other, layout: dataLayout(path.join(base, 'data')), catalog: { version: 1, models: [] }, version: 'test' }, imported.ids)).toEqual({ trusted: 1, valid: 0, invalid: 0 });
    } finally {
      other.close();
    }
  });
});

describe('atelier library credentials', () => {
  it('reports each file and fails on a file changed after signing', async () => {
    const signed = exported.get(seeded.child.id)!;
    const changed = path.join(base, 'changed.png');
    const bytes = Buffer.from(fs.readFileSync(signed));
    const at = bytes.indexOf(Buffer.from('IDAT', 'ascii')) + 8;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(changed, bytes);
    let out = '';
    expect(await credentialsCommand([signed], path.join(base, 'data'), {}, (t) => (out += t))).toBe(0);
    expect(out).toContain('trusted, signed by Atelier on ');
    expect(out).toContain('ingredient Atelier generation');
    out = '';
    expect(await credentialsCommand([signed, changed], path.join(base, 'data'), { json: true }, (t) => (out += t))).toBe(1);
    expect((JSON.parse(out) as { credentials: { state: string } }[]).map((r) => r.credentials.state)).toEqual(['trusted', 'invalid']);
  });
});
