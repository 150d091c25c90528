/**
 * Handing a media key to one viewer page through a server that must not be
 * able to read it (docs/e2ee.md "Key exchange"): both sides make a P-256 ECDH
 * key pair, the server relays the public halves, and the creator seals the
 * media key for each viewer with a key only the two of them can derive:
 *
 *   ECDH(P-256) → 256-bit secret → HKDF-SHA-256(salt = roomId,
 *   info = "StreamShare E2EE wrap v1") → AES-GCM-256;
 *   wrapped = iv(12) ‖ AES-GCM(mediaKey, aad = roomId ":" keyId)
 *
 * The AAD binds a wrapped key to its room and key id, so the server cannot
 * replay one room's key into another, or relabel an old key as the current one.
 */
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from '@/lib/e2ee/bytes';
import { MEDIA_KEY_BYTES } from '@/lib/e2ee/frame';

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
const WRAP_INFO = 'StreamShare E2EE wrap v1';
const IV_BYTES = 12;
/** An uncompressed P-256 point: 0x04 ‖ x ‖ y. */
export const PUBLIC_KEY_BYTES = 65;

/** A page's ECDH key pair; the private half cannot be exported. */
export function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ECDH, false, ['deriveBits']);
}

/** The raw public key (65 bytes). */
export async function exportPublicKey(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey('raw', key));
}

export async function exportPublicKeyBase64(key: CryptoKey): Promise<string> {
  return toBase64Url(await exportPublicKey(key));
}

/** Parses a base64url raw public key; throws on anything that is not a P-256 point. */
export async function importPublicKey(base64: string): Promise<CryptoKey> {
  const raw = fromBase64Url(base64);
  if (raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) throw new Error('Not an uncompressed P-256 public key.');
  return crypto.subtle.importKey('raw', raw, ECDH, true, []);
}

/** The AES-GCM key that seals media keys between one private key and one peer public key in one room. */
export async function deriveWrapKey(privateKey: CryptoKey, peerPublicKey: CryptoKey, roomId: string): Promise<CryptoKey> {
  const secret = await crypto.subtle.deriveBits({ name: 'ECDH', public: peerPublicKey }, privateKey, 256);
  const base = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(roomId), info: utf8(WRAP_INFO) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function aad(roomId: string, keyId: number): Uint8Array<ArrayBuffer> {
  return utf8(`${roomId}:${keyId}`);
}

export async function wrapMediaKey(
  wrapKey: CryptoKey,
  roomId: string,
  keyId: number,
  mediaKey: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(roomId, keyId) }, wrapKey, mediaKey);
  return concatBytes(iv, new Uint8Array(sealed));
}

/** Rejects when the wrapped key was not sealed for this page, room and key id, or was changed. */
export async function unwrapMediaKey(
  wrapKey: CryptoKey,
  roomId: string,
  keyId: number,
  wrapped: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (wrapped.length <= IV_BYTES) throw new Error('Too short for a wrapped key.');
  const opened = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: wrapped.subarray(0, IV_BYTES), additionalData: aad(roomId, keyId) },
      wrapKey,
      wrapped.subarray(IV_BYTES),
    ),
  );
  if (opened.length !== MEDIA_KEY_BYTES) throw new Error('A media key has the wrong length.');
  return opened;
}

/** A fresh random media key. */
export function generateMediaKey(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(MEDIA_KEY_BYTES));
}
