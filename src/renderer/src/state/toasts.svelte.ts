import { messageOf } from '../lib/errors';

export type ToastTone = 'info' | 'success' | 'error';

export interface ToastAction {
  label: string;
  run: () => void | Promise<void>;
}

export interface Toast {
  id: number;
  tone: ToastTone;
  message: string;
  action?: ToastAction;
}

/** Short-lived notices: completed and failed jobs, undo offers, errors a call reported. */
class Toasts {
  items = $state.raw<Toast[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  show(message: string, tone: ToastTone = 'info', action?: ToastAction, timeoutMs = tone === 'error' ? 10_000 : 6_000): number {
    const id = this.#next++;
    this.items = [...this.items.slice(-4), { id, tone, message, action }];
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), timeoutMs),
    );
    return id;
  }

  error(message: string): number {
    return this.show(message, 'error');
  }

  /** Runs `call`; if it fails, its error becomes an error toast and the result is null. */
  async guard<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      this.error(messageOf(error));
      return null;
    }
  }

  dismiss(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.items = this.items.filter((toast) => toast.id !== id);
  }
}

export const toasts = new Toasts();
