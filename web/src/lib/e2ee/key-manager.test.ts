import { describe, expect, it } from 'vitest';

import { CreatorKeys, type KeyDelivery } from '@/lib/e2ee/creator-keys';
import { ViewerKeys } from '@/lib/e2ee/viewer-keys';

/** Records what the frame worker would be told. */
class RecordingCryptor {
  readonly keys = new Map<number, Uint8Array>();
  readonly log: string[] = [];
  setKey(keyId: number, key: Uint8Array) {
    this.keys.set(keyId, key.slice());
    this.log.push(`set ${keyId}`);
  }
  useKey(keyId: number) {
    this.log.push(`use ${keyId}`);
  }
}

class RefusedError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/**
 * A creator and viewer pages joined by a relay that does what the server
 * does with `e2ee:hello` / `e2ee:key`: it passes public keys and wrapped keys
 * along and refuses keys for viewers who lost access.
 */
function room() {
  const roomId = 'room-1';
  const creatorCryptor = new RecordingCryptor();
  const viewers = new Map<string, { keys: ViewerKeys; cryptor: RecordingCryptor; userId: string }>();
  const refused = new Set<string>();
  const deliveries: KeyDelivery[] = [];
  const creator = new CreatorKeys({
    roomId,
    cryptor: creatorCryptor,
    sendReady: () => Promise.resolve(),
    sendKey: async (delivery) => {
      if (refused.has(delivery.viewerId)) throw new RefusedError('forbidden');
      deliveries.push(delivery);
      await viewers.get(delivery.socketId)?.keys.onKey(delivery);
    },
    switchDelayMs: 20,
    rotateEveryMs: 3_600_000,
  });
  const join = async (socketId: string, userId: string) => {
    const cryptor = new RecordingCryptor();
    const keys = new ViewerKeys({
      roomId,
      cryptor,
      sendHello: (publicKey) => creator.onRequest({ viewerId: userId, socketId, publicKey }),
    });
    viewers.set(socketId, { keys, cryptor, userId });
    await keys.hello();
    return { keys, cryptor };
  };
  return { creator, creatorCryptor, join, refused, deliveries };
}

describe('creator and viewer key managers', () => {
  it('hand the creator’s media key to a viewer who asks, with the same safety number', async () => {
    const { creator, creatorCryptor, join } = room();
    await creator.start();
    expect(creatorCryptor.log).toEqual(['set 0', 'use 0']);
    const viewer = await join('s1', 'alice');
    expect(viewer.keys.keyIds()).toEqual([0]);
    expect(viewer.cryptor.keys.get(0)).toEqual(creatorCryptor.keys.get(0));
    expect(viewer.keys.safetyNumber).toBe(creator.safetyNumber);
    expect(creator.safetyNumber).toMatch(/^\d{4} \d{4} \d{4}$/);
  });

  it('rotate on a ban: the new key reaches the others before it is used, never the banned one', async () => {
    const { creator, creatorCryptor, join } = room();
    await creator.start();
    const alice = await join('s1', 'alice');
    const bob = await join('s2', 'bob');
    await creator.onRevoke('alice');
    expect(creator.currentKeyId).toBe(1);
    expect(bob.keys.keyIds()).toEqual([0, 1]);
    expect(bob.cryptor.keys.get(1)).toEqual(creatorCryptor.keys.get(1));
    expect(alice.keys.keyIds()).toEqual([0]);
    // Bob had key 1 before the sender switched to it.
    expect(creatorCryptor.log).toEqual(['set 0', 'use 0', 'set 1', 'use 1']);
    expect(creator.holderCount).toBe(1);
  });

  it('rotate when a viewer leaves, and coalesce rotations asked for meanwhile', async () => {
    const { creator, join } = room();
    await creator.start();
    await join('s1', 'alice');
    await join('s2', 'bob');
    const carol = await join('s3', 'carol');
    await Promise.all([creator.onViewerLeft('alice'), creator.onViewerLeft('bob'), creator.onViewerLeft('nobody')]);
    // One rotation for alice, one more for bob asked mid-way: two in all.
    expect(creator.currentKeyId).toBe(2);
    expect(carol.keys.keyIds()).toEqual([0, 1, 2]);
    expect(creator.holderCount).toBe(1);
  });

  it('forget a page the server refuses a key for', async () => {
    const { creator, join, refused } = room();
    await creator.start();
    await join('s1', 'alice');
    refused.add('alice');
    await creator.rotate();
    expect(creator.holderCount).toBe(0);
  });

  it('send a viewer who arrives mid-rotation both the current and the next key', async () => {
    const { creator, join } = room();
    await creator.start();
    await join('s1', 'alice');
    const rotation = creator.rotate();
    const late = await join('s2', 'dave');
    await rotation;
    expect(late.keys.keyIds()).toEqual([0, 1]);
  });

  it('keep at most three keys on a viewer page', async () => {
    const { creator, join } = room();
    await creator.start();
    const viewer = await join('s1', 'alice');
    for (let i = 0; i < 4; i += 1) await creator.rotate();
    expect(viewer.keys.keyIds()).toEqual([2, 3, 4]);
  });

  it('ignore a wrapped key that does not open', async () => {
    const { creator, join, deliveries } = room();
    await creator.start();
    const viewer = await join('s1', 'alice');
    const good = deliveries[0];
    await viewer.keys.onKey({ ...good, keyId: 9 });
    expect(viewer.keys.keyIds()).toEqual([0]);
    expect(viewer.keys.rejectedKeys).toBe(1);
  });

  it('ask again after a transient refusal, and not after a final one', async () => {
    const { creator } = room();
    await creator.start();
    const cryptor = new RecordingCryptor();
    const answers = [new RefusedError('rate_limited')];
    const flaky = new ViewerKeys({
      roomId: 'room-1',
      cryptor,
      retryDelayMs: 5,
      sendHello: (publicKey) => {
        const refusal = answers.shift();
        return refusal ? Promise.reject(refusal) : creator.onRequest({ viewerId: 'erin', socketId: 's9', publicKey });
      },
    });
    await flaky.hello();
    expect(flaky.error).toBeNull();
    expect(creator.holderCount).toBe(1);

    let asked = 0;
    const refused = new ViewerKeys({
      roomId: 'room-1',
      cryptor,
      retryDelayMs: 5,
      sendHello: () => {
        asked += 1;
        return Promise.reject(new RefusedError('payment_required'));
      },
    });
    await refused.hello();
    expect(asked).toBe(1);
    expect((refused.error as RefusedError).code).toBe('payment_required');
  });
});
