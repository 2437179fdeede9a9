import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary, restoreFrom } from '../../src/main/library';
import { dataLayout } from '../../src/main/paths';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

/** A data folder whose library holds two pictures (made by the library itself, as the app would). */
async function dataFolderWithTwoPictures(): Promise<{ dataDir: string; libraryDir: string; ids: string[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-safety-'));
  const { libraryDir } = dataLayout(dataDir);
  const library = openLibrary(libraryDir);
  const ids: string[] = [];
  for (const name of ['a quiet harbour', 'a bright meadow']) {
    const scratch = path.join(dataDir, `${ids.length}.png`);
    fs.writeFileSync(scratch, `picture ${name}`);
    ids.push((await library.commitGeneration({ kind: 'image', model: 'import', prompt: name, files: [{ sourcePath: scratch, mime: 'image/png', role: 'image' }] })).id);
  }
  library.close();
  return { dataDir, libraryDir, ids };
}

describe('keeping a library safe, in Chromium', () => {
  let app: AppSession | undefined;
  afterEach(async () => {
    await closeApp(app);
    app = undefined;
  });

  it('shows what the quarantine holds in Settings and brings a generation back from it', async () => {
    const { dataDir, libraryDir, ids } = await dataFolderWithTwoPictures();
    // A database that forgot one picture (as an older copy would): its file and record are set aside at start.
    const db = new Database(path.join(libraryDir, 'atelier.db'));
    db.prepare('DELETE FROM generations WHERE id = ?').run(ids[1]);
    db.close();

    app = await openApp({ dataDir });
    const { page } = app;
    await page.getByTestId('nav-settings').click();
    const summary = page.getByTestId('quarantine-summary');
    await expect.poll(() => summary.textContent()).toMatch(/2 files .* set aside/);
    await expect.poll(() => summary.textContent()).toMatch(/1 generation can be brought back/);
    await screenshot(page, 'settings-quarantine');
    await page.getByTestId('quarantine-rebuild').click();
    await page.getByTestId('quarantine-empty').waitFor();

    await page.getByTestId('nav-library').click();
    await expect.poll(() => page.getByTestId('library-item').count()).toBe(2);
    expect(app.errors).toEqual([]);
  });

  it('offers "Undo restore" in the Library and puts the library back as it was', async () => {
    const { dataDir, libraryDir } = await dataFolderWithTwoPictures();
    // A backup made before the second picture existed, restored over the library of two.
    const backup = path.join(dataDir, 'one-picture.db');
    const library = openLibrary(libraryDir);
    const second = library.listGenerations({ sort: 'newest', limit: 1 }).items[0]!;
    library.softDeleteGenerations([second.id]);
    await library.backupTo(backup);
    library.restoreGenerations([second.id]);
    library.close();
    restoreFrom(backup, libraryDir);
    // In the backup the second picture is in the trash: the Library shows one item until the undo.

    app = await openApp({ dataDir });
    const { page } = app;
    await page.getByTestId('nav-library').click();
    await page.getByTestId('restore-notice').waitFor();
    expect(await page.getByTestId('restore-notice').textContent()).toContain('one-picture.db');
    await expect.poll(() => page.getByTestId('library-item').count()).toBe(1);
    await screenshot(page, 'library-restore-notice');
    await page.getByTestId('undo-restore').click();
    await page.getByTestId('restore-notice').waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('library-item').count()).toBe(2);
    expect(app.errors).toEqual([]);
  });
});
