/** Random identifiers made in the browser. */

/**
 * A random UUID (v4) for an `Idempotency-Key`. `crypto.randomUUID` exists only
 * in secure contexts (HTTPS, localhost); a self-hosted server reached over
 * plain HTTP on a LAN still gets a proper key from `getRandomValues`.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4 (RFC 9562 §5.4)
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
