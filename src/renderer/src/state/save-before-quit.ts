import { writer } from './write.svelte';

/**
 * The desktop app asks every window before it quits: the Write view's pending autosave goes out now
 * instead of after its debounce, then the window says it is ready (the app stops waiting after a few
 * seconds either way). Returns the unsubscribe function.
 */
export function answerQuitRequests(): () => void {
  return window.studio.on('app.quitting', ({ quitId }) => {
    // flush() reports its own failures in the editor; the app is told either way, so it never waits in vain.
    void writer
      .flush()
      .catch(() => undefined)
      .then(() => window.studio.app.readyToQuit({ quitId }))
      .catch(() => undefined);
  });
}
