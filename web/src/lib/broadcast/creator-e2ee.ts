import { useCallback, useEffect, useRef, useState } from 'react';

import { CreatorKeys } from '@/lib/e2ee/creator-keys';
import { FrameCryptor, type E2eeSupport } from '@/lib/e2ee/cryptor';
import { exposeE2eeDiagnostics } from '@/lib/e2ee/debug';
import { emitWithAck, useSocketEvent } from '@/lib/socket';

export type CreatorE2eeState = {
  safetyNumber: string | null;
  currentKeyId: number | null;
  /** Viewer pages holding the current key. */
  holders: number;
};

export type CreatorE2eeSession = { cryptor: FrameCryptor; keys: CreatorKeys };

/**
 * The studio's end of an E2EE room while it publishes (docs/e2ee.md): the
 * frame worker and the key manager, answering every `e2ee:request` with
 * `e2ee:key` by itself, rotating on `e2ee:revoke`, on a viewer leaving and
 * on a timer. `begin` makes them for one peer connection, `end` drops them.
 */
export function useCreatorE2ee() {
  const sessionRef = useRef<(CreatorE2eeSession & { roomId: string; dispose: () => void }) | null>(null);
  const [state, setState] = useState<CreatorE2eeState | null>(null);

  const end = useCallback(() => {
    sessionRef.current?.dispose();
    sessionRef.current = null;
    setState(null);
  }, []);

  const begin = useCallback(
    async (roomId: string, support: Exclude<E2eeSupport, null>): Promise<CreatorE2eeSession> => {
      sessionRef.current?.dispose();
      const cryptor = new FrameCryptor(support);
      const keys: CreatorKeys = new CreatorKeys({
        roomId,
        cryptor,
        sendReady: (publicKey) => emitWithAck('e2ee:ready', { roomId, publicKey }),
        sendKey: (delivery) => emitWithAck('e2ee:key', { roomId, ...delivery }),
        onChange: () => {
          if (sessionRef.current?.keys === keys) {
            setState({ safetyNumber: keys.safetyNumber, currentKeyId: keys.currentKeyId, holders: keys.holderCount });
          }
        },
      });
      const hide = exposeE2eeDiagnostics({
        role: 'creator',
        keyIds: () => keys.keyIds(),
        currentKeyId: () => keys.currentKeyId,
        stats: () => cryptor.stats,
      });
      sessionRef.current = {
        roomId,
        cryptor,
        keys,
        dispose: () => {
          hide();
          keys.stop();
          cryptor.close();
        },
      };
      await keys.start();
      return { cryptor, keys };
    },
    [],
  );

  const keysFor = (eventRoomId: string) =>
    eventRoomId === sessionRef.current?.roomId ? sessionRef.current.keys : undefined;
  useSocketEvent('e2ee:request', ({ roomId: id, viewer, socketId, publicKey }) => {
    void keysFor(id)?.onRequest({ viewerId: viewer.id, socketId, publicKey });
  });
  useSocketEvent('e2ee:revoke', ({ roomId: id, userId }) => {
    void keysFor(id)?.onRevoke(userId);
  });
  useSocketEvent('room:viewer_left', ({ roomId: id, user }) => {
    void keysFor(id)?.onViewerLeft(user.id);
  });

  useEffect(() => end, [end]);

  return { state, begin, end };
}
