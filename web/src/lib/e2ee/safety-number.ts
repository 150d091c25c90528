/**
 * The safety number both sides can compare (docs/e2ee.md "Trusting the
 * server"): SHA-256 of the creator's raw ECDH public key, its first 5 bytes
 * as a big-endian number mod 10^12, zero-padded to 12 digits, shown as three
 * groups of four. If the studio and a viewer see the same number, the server
 * relayed the creator's real key, not one of its own.
 */
import { fromBase64Url } from '@/lib/e2ee/bytes';

export async function safetyNumber(publicKey: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey));
  let value = 0n;
  for (const byte of digest.subarray(0, 5)) value = (value << 8n) | BigInt(byte);
  const digits = (value % 10n ** 12n).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

export function safetyNumberOfBase64(publicKey: string): Promise<string> {
  return safetyNumber(fromBase64Url(publicKey));
}
