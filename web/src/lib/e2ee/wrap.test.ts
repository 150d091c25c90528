import { describe, expect, it } from 'vitest';

import { fromBase64Url, toBase64Url } from '@/lib/e2ee/bytes';
import { safetyNumber } from '@/lib/e2ee/safety-number';
import {
  deriveWrapKey,
  exportPublicKey,
  exportPublicKeyBase64,
  generateKeyPair,
  generateMediaKey,
  importPublicKey,
  unwrapMediaKey,
  wrapMediaKey,
} from '@/lib/e2ee/wrap';

describe('key wrapping (ECDH P-256 + HKDF + AES-GCM)', () => {
  it('gives the viewer the media key the creator wrapped for it', async () => {
    const creator = await generateKeyPair();
    const viewer = await generateKeyPair();
    const mediaKey = generateMediaKey();
    const creatorSide = await deriveWrapKey(creator.privateKey, await importPublicKey(await exportPublicKeyBase64(viewer.publicKey)), 'room1');
    const wrapped = await wrapMediaKey(creatorSide, 'room1', 4, mediaKey);
    expect(wrapped.length).toBeLessThanOrEqual(256);
    const viewerSide = await deriveWrapKey(viewer.privateKey, await importPublicKey(await exportPublicKeyBase64(creator.publicKey)), 'room1');
    expect(await unwrapMediaKey(viewerSide, 'room1', 4, wrapped)).toEqual(mediaKey);
  });

  it('does not open for another page, another room or another key id', async () => {
    const creator = await generateKeyPair();
    const viewer = await generateKeyPair();
    const stranger = await generateKeyPair();
    const wrapKey = await deriveWrapKey(creator.privateKey, viewer.publicKey, 'room1');
    const wrapped = await wrapMediaKey(wrapKey, 'room1', 4, generateMediaKey());
    const strangerKey = await deriveWrapKey(stranger.privateKey, creator.publicKey, 'room1');
    await expect(unwrapMediaKey(strangerKey, 'room1', 4, wrapped)).rejects.toThrow();
    const viewerKey = await deriveWrapKey(viewer.privateKey, creator.publicKey, 'room1');
    await expect(unwrapMediaKey(viewerKey, 'room1', 5, wrapped)).rejects.toThrow();
    const otherRoom = await deriveWrapKey(viewer.privateKey, creator.publicKey, 'room2');
    await expect(unwrapMediaKey(otherRoom, 'room2', 4, wrapped)).rejects.toThrow();
    const tampered = wrapped.slice();
    tampered[20] ^= 1;
    await expect(unwrapMediaKey(viewerKey, 'room1', 4, tampered)).rejects.toThrow();
  });

  it('exports 65-byte uncompressed points and refuses anything else', async () => {
    const pair = await generateKeyPair();
    const raw = await exportPublicKey(pair.publicKey);
    expect(raw.length).toBe(65);
    expect(raw[0]).toBe(4);
    await expect(importPublicKey(toBase64Url(raw.subarray(0, 33)))).rejects.toThrow();
    await expect(importPublicKey('not base64!')).rejects.toThrow();
    const offCurve = raw.slice();
    offCurve[64] ^= 1;
    await expect(importPublicKey(toBase64Url(offCurve))).rejects.toThrow();
  });
});

describe('base64url', () => {
  it('round-trips without padding', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x3e]);
    expect(toBase64Url(bytes)).toBe('-_8APg');
    expect(fromBase64Url('-_8APg')).toEqual(bytes);
  });
});

describe('safety number', () => {
  it('is the first 5 bytes of SHA-256 mod 10^12, in three groups of four', async () => {
    // SHA-256("abc") = ba7816bf8f…; 0xba7816bf8f = 800,878,673,807 (< 10^12).
    expect(await safetyNumber(new TextEncoder().encode('abc'))).toBe('8008 7867 3807');
  });

  it('is the same for both sides and differs between keys', async () => {
    const a = await exportPublicKey((await generateKeyPair()).publicKey);
    const b = await exportPublicKey((await generateKeyPair()).publicKey);
    expect(await safetyNumber(a)).toMatch(/^\d{4} \d{4} \d{4}$/);
    expect(await safetyNumber(a)).toBe(await safetyNumber(a.slice()));
    expect(await safetyNumber(a)).not.toBe(await safetyNumber(b));
  });
});
