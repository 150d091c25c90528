import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { emitWithAck, getSocket, type ServerEvents } from '@/lib/socket';
import { answerOffer, describeSignalingError, isWebRtcSupported, loadIceServers } from '@/lib/webrtc';

export type ViewerStatus = 'idle' | 'unsupported' | 'connecting' | 'playing' | 'failed';

type Session = { key: string; status: 'playing' | 'failed'; stream: MediaStream | null; error: string | null };

/**
 * Watches a room over WebRTC, signaled through Socket.IO: `media:view`
 * answers with the server's SDP offer; the browser answers it with
 * `media:answer`. A later `media:offer` from the server is a renegotiation,
 * answered the same way on the same connection.
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
    let cancelled = false;
    let pc: RTCPeerConnection | null = null;
    const remote = new MediaStream();

    const fail = (error: unknown) => {
      if (!cancelled) setSession({ key, status: 'failed', stream: null, error: describeSignalingError(error) });
    };

    const negotiate = async (offerSdp: string) => {
      if (!pc) return;
      const sdp = await answerOffer(pc, offerSdp);
      if (cancelled) return;
      await emitWithAck('media:answer', { roomId, sdp });
    };

    const onOffer = ({ roomId: forRoom, sdp }: ServerEvents['media:offer']) => {
      if (forRoom === roomId && pc) negotiate(sdp).catch(fail);
    };

    const start = async () => {
      const iceServers = await loadIceServers(queryClient);
      if (cancelled) return;
      const { sdp } = await emitWithAck('media:view', { roomId });
      if (cancelled) return;
      const connection = new RTCPeerConnection({ iceServers });
      pc = connection;
      connection.addEventListener('track', (event) => {
        const stream = event.streams[0] ?? remote;
        if (!event.streams[0]) remote.addTrack(event.track);
        if (!cancelled) setSession({ key, status: 'playing', stream, error: null });
      });
      connection.addEventListener('connectionstatechange', () => {
        if (connection.connectionState === 'failed') fail(new Error('The video connection was lost.'));
      });
      getSocket().on('media:offer', onOffer);
      await negotiate(sdp);
    };
    start().catch(fail);

    return () => {
      cancelled = true;
      getSocket().off('media:offer', onOffer);
      pc?.close();
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
