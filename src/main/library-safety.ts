import path from 'node:path';
import type { RestoreState } from '../shared/contract';
import { StudioError } from '../shared/errors';
import type { EventBus } from './ipc/events';
import type { Handlers } from './ipc/dispatch';
import type { JobQueue } from './jobs/queue';
import { dismissRestoreMarker, readRestoreMarker, undoRestore, type Library } from './library';

type SafetyCalls = 'library.quarantine' | 'library.quarantineRebuild' | 'library.quarantineDelete' | 'library.restoreState' | 'library.undoRestore' | 'library.dismissRestore';

/**
 * The calls behind Settings → Library (quarantine) and the Library's "Undo restore": what was set
 * aside, bringing it back, deleting it on request, and putting a restored library back as it was.
 */
export function librarySafetyHandlers(deps: { library: Library; queue: JobQueue; events: EventBus }): Pick<Handlers, SafetyCalls> {
  const { library, queue, events } = deps;
  const restoreState = (): RestoreState | null => {
    const marker = readRestoreMarker(library.dir);
    if (!marker) return null;
    return { action: marker.action, from: path.basename(marker.from), restoredAt: marker.restoredAt, canUndo: marker.action === 'restore' && marker.previousDatabase !== null };
  };
  return {
    'library.quarantine': () => library.quarantineSummary(),
    'library.quarantineRebuild': () => {
      const report = library.recoverFromRecords();
      if (report.ids.length > 0) events.emit('library.changed', { ids: report.ids });
      return { generations: report.ids.length, missingFiles: report.missingFiles.length };
    },
    'library.quarantineDelete': () => library.deleteQuarantine(),
    'library.restoreState': () => ({ restore: restoreState() }),
    'library.undoRestore': async () => {
      if (!restoreState()?.canUndo) throw new StudioError('NOT_FOUND', 'There is no restore to undo in this library.');
      if (queue.busy) throw new StudioError('INVALID_INPUT', 'A job is running. Wait for it to finish (or cancel it in the Queue), then undo the restore.');
      const wasPaused = queue.isPaused;
      queue.setPaused(true);
      try {
        library.reopenAfter((options) => undoRestore(library.dir, options));
      } finally {
        queue.setPaused(wasPaused);
      }
      events.emit('library.changed', { ids: [] });
      return { generations: library.listGenerations({ limit: 1 }).total };
    },
    'library.dismissRestore': () => {
      dismissRestoreMarker(library.dir);
      return {};
    },
  };
}
