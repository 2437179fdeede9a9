import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../../src/main/library';
import { importPngFolder } from '../../../src/main/library-io/import';
import { pngWithText, sha256File, tempDir } from '../../integration/helpers/library-io-fixtures';

const A1111 = 'a lighthouse at dusk\nNegative prompt: fog\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 11, Size: 16x16, Model: m';

describe('importPngFolder', () => {
  let base: string;
  let folder: string;
  let library: Library;

  beforeEach(async () => {
    base = tempDir();
    folder = path.join(base, 'pictures');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a1111.png'), await pngWithText({ parameters: A1111 }, 1));
    fs.writeFileSync(path.join(folder, 'atelier.png'), await pngWithText({ atelier: JSON.stringify({ id: 'gen-from-elsewhere', kind: 'image', params: { prompt: 'a fox' } }) }, 2));
    library = openLibrary(path.join(base, 'library'));
  });

  afterEach(() => {
    library.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('restores pictures that only the trash holds, so a later purge does not lose them', async () => {
    const first = await importPngFolder(library, folder);
    expect(first.imported).toBe(2);
    library.softDeleteGenerations(first.ids);

    const again = await importPngFolder(library, folder);
    expect(again.skipped).toEqual([]);
    expect(again.restored.sort()).toEqual([...first.ids].sort());
    expect(again.imported).toBe(0);
    for (const id of first.ids) expect(library.getGeneration(id).deletedAt).toBeNull();

    library.purgeDeleted();
    const hashes = library.listGenerations({ limit: 10 }).items.flatMap((g) => g.assets.map((a) => a.sha256));
    expect(hashes.sort()).toEqual([sha256File(path.join(folder, 'a1111.png')), sha256File(path.join(folder, 'atelier.png'))].sort());
  });

  it('restores an Atelier picture by its generation id when the trash holds it under another file', async () => {
    const first = await importPngFolder(library, folder);
    const fox = first.ids.find((id) => library.getGeneration(id).prompt === 'a fox')!;
    library.softDeleteGenerations(first.ids);
    // The same generation exported again: a different file, the generation's id in its atelier chunk.
    fs.rmSync(path.join(folder, 'a1111.png'));
    fs.writeFileSync(path.join(folder, 'atelier.png'), await pngWithText({ atelier: JSON.stringify({ id: fox, kind: 'image', params: { prompt: 'a fox' } }) }, 3));

    const again = await importPngFolder(library, folder);
    expect(again).toMatchObject({ imported: 0, restored: [fox], skipped: [] });
    expect(library.getGeneration(fox).deletedAt).toBeNull();
  });

  it('still skips a picture that is live in the library as already there', async () => {
    await importPngFolder(library, folder);
    const again = await importPngFolder(library, folder);
    expect(again.imported).toBe(0);
    expect(again.restored).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toEqual(['already in the library (same file)', 'already in the library (same file)']);
  });
});
