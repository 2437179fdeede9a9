import { StudioError } from '../shared/errors';
import { acquireLibraryLock, restoreFrom } from './library';
import { rebuildLibrary, setDatabaseAside, startEmptyLibrary } from './library/recovery';
import { restoreLibrary } from './library-io/archive-backup';

/**
 * The recovery window of the desktop app: when the library's database is damaged at start, the
 * person chooses what happens, and none of the choices deletes anything (the damaged database is
 * kept in the library's backups folder; the files and their records stay where they are).
 */

export type RecoveryChoice = 'rebuild' | 'restore' | 'start-empty' | 'quit';

export interface RecoveryUi {
  /** Shows the damage and the choices; resolves with the one taken. */
  choose(message: string): Promise<RecoveryChoice>;
  /** A backup to restore: an Atelier backup archive (.tar) or a database copy (.db); null if none was picked. */
  pickBackup(): Promise<string | null>;
  /** Tells the outcome (or why a choice failed) before trying again. */
  tell(message: string): Promise<void>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function restoreOverDamaged(backup: string, libraryDir: string, nativeBinding: string | undefined): Promise<void> {
  const lock = acquireLibraryLock(libraryDir, { kind: 'desktop app', detail: 'restoring a backup' }, { nativeBinding });
  try {
    // The damaged database cannot be checkpointed or kept as "before restore": it goes to backups/ first.
    setDatabaseAside(libraryDir, 'damaged');
    if (/\.db$/i.test(backup)) restoreFrom(backup, libraryDir, { nativeBinding });
    else await restoreLibrary(backup, libraryDir, { lock, nativeBinding });
  } finally {
    lock.release();
  }
}

/** Runs `open`; while it fails because the database is damaged, asks what to do, does it, and tries again. */
export async function openWithRecovery<T>(open: () => Promise<T>, libraryDir: string, ui: RecoveryUi, options: { nativeBinding?: string } = {}): Promise<T> {
  const { nativeBinding } = options;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof StudioError) || error.code !== 'DB_CORRUPT') throw error;
      const choice = await ui.choose(error.message);
      if (choice === 'quit') throw error;
      try {
        if (choice === 'rebuild') {
          const result = await rebuildLibrary(libraryDir, { owner: { kind: 'desktop app', detail: 'rebuilding the library' }, nativeBinding });
          const missing = result.missingFiles.length ? ` ${result.missingFiles.length} files named by their records were not found.` : '';
          await ui.tell(`Rebuilt ${result.ids.length + result.pictures.length} generations from the library's files.${missing} The damaged database is kept in the library's backups folder.`);
        } else if (choice === 'start-empty') {
          startEmptyLibrary(libraryDir, { owner: { kind: 'desktop app', detail: 'starting an empty library' }, nativeBinding });
        } else {
          const backup = await ui.pickBackup();
          if (backup) await restoreOverDamaged(backup, libraryDir, nativeBinding);
        }
      } catch (failure) {
        await ui.tell(`That did not work: ${messageOf(failure)} Nothing was deleted.`);
      }
    }
  }
}
