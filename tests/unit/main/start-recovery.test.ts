import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../../src/main/library';
import { openWithRecovery, type RecoveryChoice, type RecoveryUi } from '../../../src/main/start-recovery';
import { createTestLibrary, sha256File, type TestLibrary } from '../library/helpers';

let t: TestLibrary;
let opened: Library | null = null;
afterEach(() => {
  opened?.close();
  opened = null;
  t.cleanup();
});

/** A library of two pictures whose database is then overwritten with garbage. */
async function damagedLibrary(): Promise<{ files: string[]; backup: string }> {
  t = createTestLibrary();
  for (const name of ['one', 'two']) {
    await t.library.commitGeneration({ kind: 'image', model: 'm', prompt: name, files: [{ sourcePath: t.scratch(`${name}.png`, name), mime: 'image/png', role: 'image' }] });
  }
  const backup = path.join(t.base, 'good.db');
  await t.library.backupTo(backup);
  const files = t.library.listGenerations().items.map((g) => sha256File(t.library.resolveAsset(g.assets[0]!.id)!.path));
  t.library.close();
  fs.writeFileSync(path.join(t.dir, 'atelier.db'), Buffer.alloc(8192, 0x42));
  return { files, backup };
}

function scriptedUi(choices: RecoveryChoice[], backup: string | null = null): RecoveryUi & { told: string[]; asked: string[] } {
  const ui = {
    told: [] as string[],
    asked: [] as string[],
    choose: async (message: string) => {
      ui.asked.push(message);
      const next = choices.shift();
      if (!next) throw new Error('asked more often than scripted');
      return next;
    },
    pickBackup: async () => backup,
    tell: async (message: string) => {
      ui.told.push(message);
    },
  };
  return ui;
}

const open = () => Promise.resolve((opened = openLibrary(t.dir)));

describe('the recovery window at start', () => {
  it('rebuilds from the files when asked, keeping the damaged database', async () => {
    const { files } = await damagedLibrary();
    const ui = scriptedUi(['rebuild']);
    const library = await openWithRecovery(open, t.dir, ui);
    expect(ui.asked[0]).toMatch(/damaged/);
    expect(ui.told[0]).toMatch(/Rebuilt 2 generations/);
    expect(library.listGenerations().items.map((g) => g.prompt).sort()).toEqual(['one', 'two']);
    expect(fs.readdirSync(path.join(t.dir, 'backups')).some((name) => name.startsWith('atelier-before-rebuild-'))).toBe(true);
    for (const g of library.listGenerations().items) expect(files).toContain(sha256File(library.resolveAsset(g.assets[0]!.id)!.path));
  });

  it('restores a picked backup over the damaged database, and starts empty beside the same files', async () => {
    const { backup } = await damagedLibrary();
    const restored = await openWithRecovery(open, t.dir, scriptedUi(['restore'], backup));
    expect(restored.listGenerations().total).toBe(2);
    restored.close();
    opened = null;

    fs.writeFileSync(path.join(t.dir, 'atelier.db'), Buffer.alloc(8192, 0x42));
    const empty = await openWithRecovery(open, t.dir, scriptedUi(['start-empty']));
    expect(empty.listGenerations().total).toBe(0);
    expect(empty.sweptAtOpen).toMatchObject({ quarantinedFiles: 0, skipped: 'the database is new' });
    expect(fs.readdirSync(path.join(t.dir, 'backups')).filter((name) => name.startsWith('atelier-damaged-')).length).toBe(2);
  });

  it('changes nothing when the person quits', async () => {
    await damagedLibrary();
    const before = fs.readFileSync(path.join(t.dir, 'atelier.db'));
    await expect(openWithRecovery(open, t.dir, scriptedUi(['quit']))).rejects.toMatchObject({ code: 'DB_CORRUPT' });
    expect(fs.readFileSync(path.join(t.dir, 'atelier.db')).equals(before)).toBe(true);
  });
});
