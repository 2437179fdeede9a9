import type { AppInfo, Settings } from '../../../shared/contract';
import { messageOf } from '../lib/errors';
import { toasts } from './toasts.svelte';

export const VIEWS = ['write', 'image', 'music', 'library', 'models', 'queue', 'settings'] as const;
export type ViewName = (typeof VIEWS)[number];

type SettingsPatch = Partial<Settings>;
const PANEL_STORAGE_KEY = 'atelier.panelSizes';

function readStoredPanels(): Record<string, number> {
  try {
    const raw = localStorage.getItem(PANEL_STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (!parsed || typeof parsed !== 'object') return {};
    const result: Record<string, number> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'number' && value >= 0 && value <= 100) result[key] = value;
    }
    return result;
  } catch {
    return {};
  }
}

/** Which view is open, the app's info and settings, theme and remembered panel sizes. */
class AppState {
  view = $state<ViewName>('write');
  info = $state.raw<AppInfo | null>(null);
  settings = $state.raw<Settings | null>(null);
  panelSizes = $state<Record<string, number>>(readStoredPanels());
  loadError = $state<string | null>(null);
  #panelTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counts settings changes, so a load that started before one does not undo it. */
  #settingsChanges = 0;

  /**
   * Settings come straight from the library; the app's info waits for the engine to start and
   * probe its providers (seconds on a cold start), so neither waits for the other.
   */
  async load(): Promise<void> {
    const changesBefore = this.#settingsChanges;
    const settings = window.studio.settings.get().then(
      (value) => {
        // A change made while this read was on its way is newer than what it brings back.
        if (this.#settingsChanges !== changesBefore) return;
        this.settings = value;
        this.panelSizes = { ...value.panelSizes, ...this.panelSizes };
        this.applyTheme();
      },
      (error: unknown) => {
        this.loadError = messageOf(error);
      },
    );
    const info = window.studio.app.info().then(
      (value) => {
        this.info = value;
      },
      (error: unknown) => {
        this.loadError ??= messageOf(error);
      },
    );
    await Promise.all([settings, info]);
  }

  applyTheme(): void {
    const theme = this.settings?.theme ?? 'system';
    if (theme === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
  }

  async updateSettings(patch: SettingsPatch): Promise<boolean> {
    this.#settingsChanges++;
    try {
      this.settings = await window.studio.settings.set(patch);
      this.applyTheme();
      return true;
    } catch (error) {
      toasts.error(messageOf(error));
      return false;
    }
  }

  panelSize(key: string, fallback: number): number {
    return this.panelSizes[key] ?? fallback;
  }

  /** Remembered at once locally, and in settings after the drag settles. */
  setPanelSize(key: string, percent: number): void {
    this.panelSizes[key] = Math.round(percent * 10) / 10;
    const snapshot = { ...this.panelSizes };
    try {
      localStorage.setItem(PANEL_STORAGE_KEY, JSON.stringify(snapshot));
    } catch {
      // storage full or disabled: settings below still keep it
    }
    clearTimeout(this.#panelTimer);
    this.#panelTimer = setTimeout(() => {
      window.studio.settings.set({ panelSizes: snapshot }).catch(() => {
        // panel sizes are a convenience; localStorage already has them
      });
    }, 600);
  }
}

export const app = new AppState();
