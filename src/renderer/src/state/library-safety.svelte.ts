import type { QuarantineSummary, RestoreState } from '../../../shared/contract';
import { messageOf } from '../lib/errors';
import { plural } from '../lib/format';
import { toasts } from './toasts.svelte';

/**
 * What keeps a library safe, as the person sees it: the files set aside in quarantine (Settings →
 * Library) and a restore that can still be undone (a notice in the Library).
 */
class LibrarySafety {
  quarantine = $state.raw<QuarantineSummary | null>(null);
  restore = $state.raw<RestoreState | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      const [quarantine, { restore }] = await Promise.all([window.studio.library.quarantine(), window.studio.library.restoreState()]);
      this.quarantine = quarantine;
      this.restore = restore;
      this.error = null;
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  /** Runs one action at a time and refreshes after it; returns whether it succeeded. */
  async #act(action: () => Promise<string>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      toasts.show(await action(), 'success');
      return true;
    } catch (error) {
      toasts.error(messageOf(error));
      return false;
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  rebuildFromQuarantine(): Promise<boolean> {
    return this.#act(async () => {
      const result = await window.studio.library.quarantineRebuild();
      const missing = result.missingFiles > 0 ? ` ${plural(result.missingFiles, 'file')} they named could not be found.` : '';
      return `${plural(result.generations, 'generation')} back in the library.${missing}`;
    });
  }

  deleteQuarantine(): Promise<boolean> {
    return this.#act(async () => {
      const removed = await window.studio.library.quarantineDelete();
      return `Deleted ${plural(removed.files, 'file')} from quarantine.`;
    });
  }

  undoRestore(): Promise<boolean> {
    return this.#act(async () => {
      const result = await window.studio.library.undoRestore();
      return `The library is back as it was before the restore (${plural(result.generations, 'item')}).`;
    });
  }

  async dismissRestore(): Promise<void> {
    await window.studio.library.dismissRestore().catch((error: unknown) => toasts.error(messageOf(error)));
    await this.refresh();
  }
}

export const librarySafety = new LibrarySafety();
