// Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
// with the secret's decoded bytes. node:crypto only; the tests check it against the
// `standardwebhooks` package, an independent implementation.
import { createHmac } from 'node:crypto';

export function signature(secret: Buffer, msgId: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${msgId}.${timestampSec}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The headers of one delivery attempt; the timestamp is the attempt's, the id the message's. */
export function webhookHeaders(secret: Buffer, msgId: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'Lathe-Webhooks/1',
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature(secret, msgId, timestamp, body),
  };
}
