import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { openViewerSession, type ViewerState } from '@/features/room/api/viewer-session';
import { isWebRtcSupported } from '@/lib/webrtc';

export type ViewerStatus = 'idle' | 'unsupported' | 'connecting' | 'playing' | 'failed';

type Session = ViewerState & { key: string };

/**
 * Watches a room over WebRTC while `enabled`: a `ViewerSession` (signaling
 * and the peer connection), adopted from the Pay click's answer when it
 * started one, else started here.
 *
 * `generation` restarts the session (after a re-join or a retry).
 */
export function useViewerStream(roomId: string, enabled: boolean, generation: number) {
  const queryClient = useQueryClient();
  const supported = isWebRtcSupported();
  const [attempt, setAttempt] = useState(0);
  const [session, setSession] = useState<Session | null>(null);
  const key = `${roomId}:${generation}:${attempt}`;

  useEffect(() => {
    if (!enabled || !supported) return;
    const viewer = openViewerSession(roomId, queryClient);
    const update = () => setSession({ key, ...viewer.state });
    const unsubscribe = viewer.subscribe(update);
    // It may have got this far before the player mounted.
    if (viewer.state.status !== 'connecting') update();
    return () => {
      unsubscribe();
      viewer.close();
    };
  }, [enabled, supported, roomId, key, queryClient]);

  let status: ViewerStatus = 'idle';
  if (enabled) {
    if (!supported) status = 'unsupported';
    else status = session?.key === key ? session.status : 'connecting';
  }
  const current = session?.key === key ? session : null;
  return {
    status,
    stream: status === 'playing' ? (current?.stream ?? null) : null,
    error: status === 'failed' ? (current?.error ?? null) : null,
    retry: () => setAttempt((a) => a + 1),
  };
}
