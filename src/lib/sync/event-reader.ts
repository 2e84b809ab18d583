// Reads server-sent events from a fetch response body. Written here rather than taken from
// @microsoft/fetch-event-source: that package has had no release since 2021 and owns
// reconnection and visibility handling, which the sync class must own itself (Last-Event-ID from
// IndexedDB, one stream per device); the format itself is a few lines.
import type { SyncEvent } from '../../../shared/sync-types';

const EVENT_TYPES = new Set(['job_status_changed', 'job_progress', 'job_cancel_requested', 'job_pause_requested', 'job_deleted', 'resync']);

/** Calls `onEvent` for every complete event in the stream until it ends (or its reader is cancelled). */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: SyncEvent) => void | Promise<void>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let id: number | null = null;
  let type = 'message';
  let data = '';
  const dispatch = async (): Promise<void> => {
    if (data !== '' && id !== null && EVENT_TYPES.has(type)) {
      try {
        const parsed: unknown = JSON.parse(data);
        await onEvent({ type, id, data: parsed } as SyncEvent);
      } catch (error) {
        if (error instanceof SyntaxError) console.warn('Lathe sync: an event with malformed data was skipped', data);
        else throw error;
      }
    }
    id = null;
    type = 'message';
    data = '';
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.search(/\r\n|\n|\r/);
    // A CR at the very end may be the first half of a CRLF split across chunks: wait for the rest.
    while (newline >= 0 && !(newline === buffer.length - 1 && buffer.endsWith('\r'))) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') await dispatch();
      else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = Number(value);
        else if (field === 'event') type = value;
        else if (field === 'data') data = data === '' ? value : `${data}\n${value}`;
      }
      newline = buffer.search(/\r\n|\n|\r/);
    }
  }
}
