/** The message a person should read for anything a call rejected with (StudioError or otherwise). */
export function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string' && message.length > 0) return message;
  }
  return String(error);
}

export interface AttemptHooks {
  /** Receives the message of the error the call failed with. */
  error: (message: string) => void;
  /** Told true before the call and false after it, whatever its outcome. */
  busy?: (on: boolean) => void;
}

/**
 * How a state module calls the back end when a failure belongs in its own error field (not a
 * toast: that is `toasts.guard`): true when `call` succeeded; never throws.
 */
export async function attempt(call: () => Promise<unknown>, hooks: AttemptHooks): Promise<boolean> {
  hooks.busy?.(true);
  try {
    await call();
    return true;
  } catch (error) {
    hooks.error(messageOf(error));
    return false;
  } finally {
    hooks.busy?.(false);
  }
}
