// A macrotask yield between training steps, so that messages (pause, cancel, pings) are handled
// within one step. setTimeout(0) is clamped to 4 ms after a few nestings, so a MessageChannel
// round trip is used in browsers; Node (unit tests) has setImmediate.

type Resolve = () => void;

let channel: MessageChannel | null = null;
const waiting: Resolve[] = [];

export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise<void>((resolve) => void immediate(resolve));
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
  }
  const port = channel.port2;
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    port.postMessage(null);
  });
}
