import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import type { ViewerE2eeState } from '@/features/room/api/viewer-e2ee';
import { openViewerSession, type ViewerState } from '@/features/room/api/viewer-session';
import { detectE2eeSupport } from '@/lib/e2ee/cryptor';
import { isWebRtcSupported } from '@/lib/webrtc';

export type ViewerStatus = 'idle' | 'unsupported' | 'e2ee-unsupported' | 'connecting' | 'playing' | 'reconnecting' | 'failed';

type Session = ViewerState & { key: string; e2ee: ViewerE2eeState | null };

/**
 * Watches a room over WebRTC while `enabled`: a `ViewerSession` (signaling
 * and the peer connection), adopted from the Pay click's answer when it
 * started one, else started here. In an end-to-end encrypted room (`e2ee`)
 * the session decrypts frames, and a browser that cannot is told so.
 *
 * `generation` restarts the session (after a re-join or a retry).
 */
export function useViewerStream(roomId: string, enabled: boolean, generation: number, e2ee = false) {
  const queryClient = useQueryClient();
  const supported = isWebRtcSupported();
  const e2eeSupported = !e2ee || detectE2eeSupport() !== null;
  const [attempt, setAttempt] = useState(0);
  const [session, setSession] = useState<Session | null>(null);
  const key = `${roomId}:${generation}:${attempt}`;

  useEffect(() => {
    if (!enabled || !supported || !e2eeSupported) return;
    const viewer = openViewerSession(roomId, queryClient);
    if (!viewer) return;
    const update = () => setSession({ key, ...viewer.state, e2ee: viewer.e2ee ? { ...viewer.e2ee.state } : null });
    const unsubscribe = viewer.subscribe(update);
    const unsubscribeE2ee = viewer.e2ee?.subscribe(update);
    // It may have got this far before the player mounted.
    if (viewer.state.status !== 'connecting') update();
    return () => {
      unsubscribe();
      unsubscribeE2ee?.();
      viewer.close();
    };
  }, [enabled, supported, e2eeSupported, roomId, key, queryClient]);

  let status: ViewerStatus = 'idle';
  if (enabled) {
    if (!supported) status = 'unsupported';
    else if (!e2eeSupported) status = 'e2ee-unsupported';
    else status = session?.key === key ? session.status : 'connecting';
  }
  const current = session?.key === key ? session : null;
  return {
    status,
    stream: status === 'playing' || status === 'reconnecting' ? (current?.stream ?? null) : null,
    error: status === 'failed' ? (current?.error ?? null) : null,
    /** In an E2EE room: the creator's safety number, whether a key came, why not. */
    e2ee: current?.e2ee ?? null,
    retry: () => setAttempt((a) => a + 1),
  };
}
