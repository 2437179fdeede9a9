/**
 * Child process for the library-io crash test: runs export, backup, restore or import in a loop
 * (import once) and prints "ready" before the first one and "done" after each. The parent
 * SIGKILLs it at random moments.
 *
 * Usage: node --import tsx tests/integration/helpers/library-io-worker.ts <mode> <libraryDir> <target>
 *   export  target = export folder (every other run writes a ZIP)
 *   backup  target = backup file
 *   restore target = backup file to restore into libraryDir (the library is not opened)
 *   import  target = folder of PNGs
 */
import fs from 'node:fs';
import { openLibrary } from '../../../src/main/library';
import { backupLibrary, restoreLibrary } from '../../../src/main/library-io/archive-backup';
import { exportGenerations } from '../../../src/main/library-io/export';
import { importPngFolder } from '../../../src/main/library-io/import';
import { allGenerations } from './library-io-fixtures';

function say(line: string): void {
  fs.writeSync(1, `${line}\n`);
}

async function main(): Promise<void> {
  const [mode, libraryDir, target] = process.argv.slice(2);
  if (!mode || !libraryDir || !target) throw new Error('usage: library-io-worker <mode> <libraryDir> <target>');
  if (mode === 'restore') {
    say('ready');
    for (;;) {
      await restoreLibrary(target, libraryDir);
      say('done');
    }
  }
  const library = openLibrary(libraryDir);
  const ids = allGenerations(library).map((g) => g.id);
  say('ready');
  if (mode === 'import') {
    const result = await importPngFolder(library, target);
    say(`done ${result.imported}`);
    library.close();
    return;
  }
  for (let n = 0; ; n++) {
    if (mode === 'export') await exportGenerations(library, ids, target, { zip: n % 2 === 1, zipName: 'crash' });
    else if (mode === 'backup') await backupLibrary(library, libraryDir, target);
    else throw new Error(`unknown mode ${mode}`);
    say('done');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
