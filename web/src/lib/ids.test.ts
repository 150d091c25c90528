import { describe, expect, it, vi } from 'vitest';

import { newIdempotencyKey } from '@/lib/ids';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newIdempotencyKey', () => {
  it('is a fresh v4 UUID each time', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(UUID_V4);
    expect(newIdempotencyKey()).not.toBe(a);
  });

  it('works without crypto.randomUUID (plain HTTP on a LAN)', () => {
    const original = crypto.randomUUID;
    // What an insecure context looks like: the method is simply not there.
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true, writable: true });
    const getRandomValues = vi.spyOn(crypto, 'getRandomValues');
    try {
      expect(newIdempotencyKey()).toMatch(UUID_V4);
      expect(getRandomValues).toHaveBeenCalled();
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true, writable: true });
    }
  });
});
