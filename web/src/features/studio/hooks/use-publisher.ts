import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';

import { emitWithAck } from '@/lib/socket';
import { createPublishOffer, describeSignalingError, isWebRtcSupported, loadIceServers } from '@/lib/webrtc';

export type PublishState = 'idle' | 'starting' | RTCPeerConnectionState;

/**
 * Publishes the preview to the room's SFU: an SDP offer through
 * `media:publish`, the server's answer in the acknowledgement.
 */
export function usePublisher(roomId: string) {
  const queryClient = useQueryClient();
  const pcRef = useRef<RTCPeerConnection | null>(null);
  const [state, setState] = useState<PublishState>('idle');
  const [error, setError] = useState<string | null>(null);

  const stop = useCallback(() => {
    pcRef.current?.close();
    pcRef.current = null;
    setState('idle');
  }, []);

  const publish = useCallback(
    async (stream: MediaStream) => {
      if (!isWebRtcSupported()) {
        setError('This browser cannot publish WebRTC streams.');
        return false;
      }
      pcRef.current?.close();
      setError(null);
      setState('starting');
      try {
        const iceServers = await loadIceServers(queryClient);
        const pc = new RTCPeerConnection({ iceServers });
        pcRef.current = pc;
        pc.addEventListener('connectionstatechange', () => {
          if (pcRef.current === pc) setState(pc.connectionState);
        });
        const offer = await createPublishOffer(pc, stream);
        const { sdp } = await emitWithAck('media:publish', { roomId, sdp: offer });
        if (pcRef.current !== pc) return false;
        await pc.setRemoteDescription({ type: 'answer', sdp });
        setState(pc.connectionState === 'new' ? 'connecting' : pc.connectionState);
        return true;
      } catch (e) {
        pcRef.current?.close();
        pcRef.current = null;
        setState('idle');
        setError(describeSignalingError(e));
        return false;
      }
    },
    [queryClient, roomId],
  );

  /** Switches camera or microphone without renegotiating (RTCRtpSender.replaceTrack). */
  const replaceTracks = useCallback(async (stream: MediaStream) => {
    const pc = pcRef.current;
    if (!pc) return;
    await Promise.all(
      pc.getSenders().map((sender) => {
        const kind = sender.track?.kind;
        const next = stream.getTracks().find((t) => t.kind === kind);
        return next ? sender.replaceTrack(next) : Promise.resolve();
      }),
    );
  }, []);

  useEffect(() => () => pcRef.current?.close(), []);

  return { state, error, publishing: state !== 'idle', publish, replaceTracks, stop };
}
