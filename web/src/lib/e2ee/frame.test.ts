import { describe, expect, it } from 'vitest';

import {
  clearHeaderLength,
  decryptFrame,
  deriveFrameKey,
  encryptFrame,
  FRAME_OVERHEAD,
  frameIv,
  KeyRing,
  readTrailer,
} from '@/lib/e2ee/frame';
import { generateMediaKey } from '@/lib/e2ee/wrap';

// A VP8 key frame's payload header: frame tag (3), start code 9d 01 2a, 320x240.
const keyFrame = () =>
  new Uint8Array([0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, ...Array.from({ length: 200 }, (_, i) => i % 251)]);

describe('frame encryption', () => {
  it('round-trips a key frame and leaves its 10-byte VP8 header in clear', async () => {
    const fk = await deriveFrameKey(7, generateMediaKey());
    const plain = keyFrame();
    const sealed = await encryptFrame(fk, 42n, plain, clearHeaderLength('key', plain.length));
    expect(sealed.length).toBe(plain.length + FRAME_OVERHEAD);
    expect(sealed.subarray(0, 10)).toEqual(plain.subarray(0, 10));
    // The rest is not the plaintext.
    expect(sealed.subarray(10, plain.length)).not.toEqual(plain.subarray(10));
    expect(readTrailer(sealed, 10)).toEqual({ keyId: 7, counter: 42n });
    expect(await decryptFrame(fk, sealed, 10)).toEqual(plain);
  });

  it('keeps 3 bytes of a delta frame and the Opus TOC byte in clear', async () => {
    const fk = await deriveFrameKey(1, generateMediaKey());
    const delta = new Uint8Array([0x31, 0x02, 0x00, 9, 9, 9, 9, 9]);
    const sealedDelta = await encryptFrame(fk, 1n, delta, clearHeaderLength('delta', delta.length));
    expect(sealedDelta.subarray(0, 3)).toEqual(delta.subarray(0, 3));
    expect(sealedDelta[3]).not.toBeUndefined();
    const opus = new Uint8Array([0xfc, 1, 2, 3, 4]);
    const sealedOpus = await encryptFrame(fk, 2n, opus, clearHeaderLength('audio', opus.length));
    expect(sealedOpus[0]).toBe(0xfc);
    expect(await decryptFrame(fk, sealedOpus, 1)).toEqual(opus);
    // A frame shorter than its header: all of it stays in clear, still authenticated.
    expect(clearHeaderLength('key', 4)).toBe(4);
  });

  it('does not open a frame under another key', async () => {
    const sealer = await deriveFrameKey(3, generateMediaKey());
    const other = await deriveFrameKey(3, generateMediaKey());
    const sealed = await encryptFrame(sealer, 0n, keyFrame(), 10);
    await expect(decryptFrame(other, sealed, 10)).rejects.toThrow();
  });

  it('detects a changed byte anywhere: header, ciphertext or trailer', async () => {
    const fk = await deriveFrameKey(0, generateMediaKey());
    const sealed = await encryptFrame(fk, 5n, keyFrame(), 10);
    for (const at of [0, 9, 10, 100, sealed.length - 16, sealed.length - 2]) {
      const tampered = sealed.slice();
      tampered[at] ^= 0x01;
      await expect(decryptFrame(fk, tampered, 10), `byte ${at}`).rejects.toThrow();
    }
  });

  it('never reuses an IV: the counter is XORed into the salt', async () => {
    const salt = new Uint8Array(12).fill(0xaa);
    expect(frameIv(salt, 0n)).toEqual(salt);
    const iv = frameIv(salt, 0x0102n);
    expect(iv[11]).toBe(0xaa ^ 0x02);
    expect(iv[10]).toBe(0xaa ^ 0x01);
    expect(iv.subarray(0, 10)).toEqual(salt.subarray(0, 10));
    // Same plaintext, two counters: two different ciphertexts.
    const fk = await deriveFrameKey(0, generateMediaKey());
    const a = await encryptFrame(fk, 1n, keyFrame(), 10);
    const b = await encryptFrame(fk, 2n, keyFrame(), 10);
    expect(a.subarray(10, 60)).not.toEqual(b.subarray(10, 60));
  });

  it('refuses a frame too short to carry a tag and trailer', async () => {
    const fk = await deriveFrameKey(0, generateMediaKey());
    expect(readTrailer(new Uint8Array(20), 10)).toBeNull();
    await expect(decryptFrame(fk, new Uint8Array(20), 10)).rejects.toThrow();
  });

  it('keeps the newest three keys', async () => {
    const ring = new KeyRing(3);
    for (const id of [0, 1, 2, 3]) ring.add(await deriveFrameKey(id, generateMediaKey()));
    expect(ring.ids()).toEqual([1, 2, 3]);
    expect(ring.get(0)).toBeUndefined();
  });
});
