import type { EventName, EventPayload } from '../../shared/contract';

type Listener = (event: EventName, payload: unknown) => void;

/** Fan-out of contract events to every connected transport (Electron windows, WebSocket clients). */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch {
        // One broken transport must not stop the others from hearing the event.
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
