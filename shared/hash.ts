// SHA-256 helpers over WebCrypto, which exists in windows, workers and Node 20 alike.

export async function sha256Hex(...parts: ArrayBufferView[]): Promise<string> {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    joined.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  const digest = await crypto.subtle.digest('SHA-256', joined);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
