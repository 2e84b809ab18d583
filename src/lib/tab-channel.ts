// A typed BroadcastChannel for `TabMessage`s between Lathe tabs. Only plain data may be posted:
// callers take `$state.snapshot(...)` first.
import { TAB_CHANNEL_NAME, type TabMessage } from '../../shared/protocol';

export type TabMessageHandler = (message: TabMessage) => void;

/** The part of TabChannel the rest of the app uses; tests substitute an in-memory one. */
export interface TabBus {
  post(message: TabMessage): void;
  subscribe(handler: TabMessageHandler): () => void;
}

export class TabChannel implements TabBus {
  #channel: BroadcastChannel | null;
  #handlers = new Set<TabMessageHandler>();

  constructor(name: string = TAB_CHANNEL_NAME) {
    // Without BroadcastChannel the app still works; it just cannot mirror other tabs.
    this.#channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name);
    this.#channel?.addEventListener('message', this.#onMessage);
  }

  post(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  subscribe(handler: TabMessageHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  close(): void {
    this.#channel?.removeEventListener('message', this.#onMessage);
    this.#channel?.close();
    this.#channel = null;
    this.#handlers.clear();
  }

  #onMessage = (event: MessageEvent<unknown>): void => {
    if (!isTabMessage(event.data)) return;
    for (const handler of this.#handlers) handler(event.data);
  };
}

const TAB_MESSAGE_TYPES: ReadonlySet<string> = new Set(['job', 'progress', 'backend', 'queue-changed', 'command']);

/** Another version of the app may share the channel during a deploy; ignore what we cannot read. */
function isTabMessage(data: unknown): data is TabMessage {
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { type?: unknown }).type === 'string' &&
    TAB_MESSAGE_TYPES.has((data as { type: string }).type)
  );
}
