/**
 * The encrypted frame format (docs/e2ee.md "Frame format"), in the spirit of
 * SFrame (RFC 9605) but carried in a trailer so the codec's first bytes stay
 * where the SFU reads them:
 *
 *   clear header | AES-GCM ciphertext + 16-byte tag | counter (8, BE) | keyId (1)
 *
 * The clear header is the VP8 payload header (RFC 6386 §9.1: 10 bytes on a
 * key frame, 3 on a delta frame; the SFU detects key frames from it) or the
 * Opus TOC byte (RFC 6716 §3.1). Header and trailer are the AAD, so neither
 * can be changed undetected.
 *
 * Pure functions over WebCrypto: the worker runs them on every frame, and
 * the unit tests run them in Node.
 */
import { concatBytes, utf8 } from '@/lib/e2ee/bytes';

export const TAG_BYTES = 16;
export const COUNTER_BYTES = 8;
export const TRAILER_BYTES = COUNTER_BYTES + 1;
/** Per-frame growth on the wire. */
export const FRAME_OVERHEAD = TAG_BYTES + TRAILER_BYTES;
/** Bytes of a media key (AES-256 strength material; each frame key is derived from it). */
export const MEDIA_KEY_BYTES = 32;

/** What the transform knows about a frame: a video frame's type, or audio. */
export type FrameKind = 'key' | 'delta' | 'audio';

const CLEAR_BYTES: Record<FrameKind, number> = { key: 10, delta: 3, audio: 1 };

/** How many leading bytes of a frame stay in clear. */
export function clearHeaderLength(kind: FrameKind, frameLength: number): number {
  return Math.min(CLEAR_BYTES[kind], frameLength);
}

/** The per-media-key material frames are sealed with (RFC 9605 §4.4.2: a key and a salt per base key). */
export type FrameKey = { keyId: number; key: CryptoKey; salt: Uint8Array<ArrayBuffer> };

const KEY_LABEL = 'StreamShare E2EE frame key v1';
const SALT_LABEL = 'StreamShare E2EE frame salt v1';

/**
 * HKDF-SHA-256 with an empty salt (RFC 9605 §4.4.2's extract step) and a
 * label per output: an AES-GCM-128 key and a 12-byte IV salt.
 */
export async function deriveFrameKey(keyId: number, mediaKey: Uint8Array<ArrayBuffer>): Promise<FrameKey> {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw new RangeError('keyId must be 0..=255.');
  if (mediaKey.length !== MEDIA_KEY_BYTES) throw new RangeError(`A media key is ${MEDIA_KEY_BYTES} bytes.`);
  const base = await crypto.subtle.importKey('raw', mediaKey, 'HKDF', false, ['deriveBits']);
  const hkdf = (label: string) => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(label) });
  const [keyBits, saltBits] = await Promise.all([
    crypto.subtle.deriveBits(hkdf(KEY_LABEL), base, 128),
    crypto.subtle.deriveBits(hkdf(SALT_LABEL), base, 96),
  ]);
  const key = await crypto.subtle.importKey('raw', keyBits, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { keyId, key, salt: new Uint8Array(saltBits) };
}

/** RFC 9605 §4.4.3: IV = salt XOR counter, the counter left-padded to the IV's 12 bytes. */
export function frameIv(salt: Uint8Array, counter: bigint): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(salt);
  let rest = counter;
  for (let i = iv.length - 1; i >= iv.length - COUNTER_BYTES; i -= 1) {
    iv[i] ^= Number(rest & 0xffn);
    rest >>= 8n;
  }
  return iv;
}

function trailer(counter: bigint, keyId: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(TRAILER_BYTES);
  new DataView(out.buffer).setBigUint64(0, counter, false);
  out[COUNTER_BYTES] = keyId;
  return out;
}

/** Seals one frame. `counter` must never repeat under one key (the caller counts). */
export async function encryptFrame(
  frameKey: FrameKey,
  counter: bigint,
  data: Uint8Array<ArrayBuffer>,
  clearLength: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const header = data.subarray(0, clearLength);
  const tail = trailer(counter, frameKey.keyId);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: frameIv(frameKey.salt, counter), additionalData: concatBytes(header, tail), tagLength: 128 },
    frameKey.key,
    data.subarray(clearLength),
  );
  return concatBytes(header, new Uint8Array(sealed), tail);
}

/** The key id and counter of a sealed frame, or `null` when it is too short to be one. */
export function readTrailer(data: Uint8Array, clearLength: number): { keyId: number; counter: bigint } | null {
  if (data.length < clearLength + TAG_BYTES + TRAILER_BYTES) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    counter: view.getBigUint64(data.length - TRAILER_BYTES, false),
    keyId: data[data.length - 1],
  };
}

/** Opens one frame sealed by `encryptFrame`; rejects when the key is wrong or a byte was changed. */
export async function decryptFrame(
  frameKey: FrameKey,
  data: Uint8Array<ArrayBuffer>,
  clearLength: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const found = readTrailer(data, clearLength);
  if (!found) throw new Error('Too short for an encrypted frame.');
  if (found.keyId !== frameKey.keyId) throw new Error('Sealed under another key.');
  const header = data.subarray(0, clearLength);
  const tail = data.subarray(data.length - TRAILER_BYTES);
  const opened = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: frameIv(frameKey.salt, found.counter), additionalData: concatBytes(header, tail), tagLength: 128 },
    frameKey.key,
    data.subarray(clearLength, data.length - TRAILER_BYTES),
  );
  return concatBytes(header, new Uint8Array(opened));
}

/**
 * The keys a receiver holds, by key id: the newest `size` (3: the current
 * one, the one before a rotation, and the next one sent ahead of it).
 */
export class KeyRing {
  private readonly keys = new Map<number, FrameKey>();
  constructor(private readonly size = 3) {}

  add(frameKey: FrameKey): void {
    this.keys.delete(frameKey.keyId);
    this.keys.set(frameKey.keyId, frameKey);
    while (this.keys.size > this.size) {
      const oldest = this.keys.keys().next().value as number;
      this.keys.delete(oldest);
    }
  }

  get(keyId: number): FrameKey | undefined {
    return this.keys.get(keyId);
  }

  ids(): number[] {
    return [...this.keys.keys()];
  }

  clear(): void {
    this.keys.clear();
  }
}
