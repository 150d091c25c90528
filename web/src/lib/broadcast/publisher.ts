import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';

import { useCreatorE2ee } from '@/lib/broadcast/creator-e2ee';
import { detectE2eeSupport, E2EE_UNSUPPORTED_PUBLISH_MESSAGE, preferVp8 } from '@/lib/e2ee/cryptor';
import { emitWithAck } from '@/lib/socket';
import { createPublishOffer, describeSignalingError, isWebRtcSupported, loadMediaConfig } from '@/lib/webrtc';
import { startMediamtxSession } from '@/lib/whip-mediamtx';

export type PublishState = 'idle' | 'starting' | RTCPeerConnectionState;

/**
 * Publishes the preview to the room's SFU: an SDP offer through
 * `media:publish`, the server's answer in the acknowledgement. When the
 * server's media plane is MediaMTX (docs/mediamtx.md), the offer goes to
 * MediaMTX's WHIP endpoint with a media token instead, and stopping
 * DELETEs that session.
 *
 * In an E2EE room (`e2ee`) every frame is encrypted before it leaves
 * (docs/e2ee.md): the frame worker is attached to both senders, video is
 * VP8 only, and once published the studio announces its key (`e2ee:ready`).
 */
export function usePublisher() {
  const queryClient = useQueryClient();
  const creatorE2ee = useCreatorE2ee();
  const { begin: beginE2ee, end: endE2ee } = creatorE2ee;
  const pcRef = useRef<RTCPeerConnection | null>(null);
  /** Ends the MediaMTX session, when publishing there. */
  const remoteStopRef = useRef<(() => Promise<void>) | null>(null);
  const [state, setState] = useState<PublishState>('idle');
  const [error, setError] = useState<string | null>(null);

  const stop = useCallback(() => {
    pcRef.current?.close();
    pcRef.current = null;
    void remoteStopRef.current?.();
    remoteStopRef.current = null;
    endE2ee();
    setState('idle');
  }, [endE2ee]);

  const publish = useCallback(
    async (roomId: string, stream: MediaStream, e2ee = false) => {
      if (!isWebRtcSupported()) {
        setError('This browser cannot publish WebRTC streams.');
        return false;
      }
      const support = e2ee ? detectE2eeSupport() : null;
      if (e2ee && !support) {
        setError(E2EE_UNSUPPORTED_PUBLISH_MESSAGE);
        return false;
      }
      pcRef.current?.close();
      void remoteStopRef.current?.();
      remoteStopRef.current = null;
      setError(null);
      setState('starting');
      try {
        const [{ iceServers, backend }, session] = await Promise.all([
          loadMediaConfig(queryClient),
          support ? beginE2ee(roomId, support) : Promise.resolve(null),
        ]);
        const pc = new RTCPeerConnection({ iceServers, ...session?.cryptor.peerConnectionConfig() });
        pcRef.current = pc;
        pc.addEventListener('connectionstatechange', () => {
          if (pcRef.current === pc) setState(pc.connectionState);
        });
        const offer = await createPublishOffer(
          pc,
          stream,
          session
            ? (transceiver) => {
                if (transceiver.sender.track?.kind === 'video') preferVp8(transceiver);
                session.cryptor.attachSender(transceiver.sender);
              }
            : undefined,
        );
        let sdp: string;
        if (backend === 'mediamtx') {
          const remote = await startMediamtxSession(pc, roomId, 'publish', offer);
          if (pcRef.current !== pc) {
            void remote.stop();
            return false;
          }
          remoteStopRef.current = remote.stop;
          sdp = remote.answer;
        } else {
          ({ sdp } = await emitWithAck('media:publish', { roomId, sdp: offer }));
        }
        if (pcRef.current !== pc) return false;
        await pc.setRemoteDescription({ type: 'answer', sdp });
        setState(pc.connectionState === 'new' ? 'connecting' : pc.connectionState);
        // Viewers already in the room ask for the key again (a reload of the studio made new keys).
        if (session) await session.keys.announce().catch((e: unknown) => setError(describeSignalingError(e)));
        return true;
      } catch (e) {
        pcRef.current?.close();
        pcRef.current = null;
        void remoteStopRef.current?.();
        remoteStopRef.current = null;
        endE2ee();
        setState('idle');
        setError(describeSignalingError(e));
        return false;
      }
    },
    [queryClient, beginE2ee, endE2ee],
  );

  /** Switches camera or microphone without renegotiating (RTCRtpSender.replaceTrack). */
  const replaceTracks = useCallback(async (tracks: MediaStreamTrack[]) => {
    const pc = pcRef.current;
    if (!pc) return;
    await Promise.all(
      pc.getSenders().map((sender) => {
        const kind = sender.track?.kind;
        const next = tracks.find((t) => t.kind === kind);
        return next ? sender.replaceTrack(next) : Promise.resolve();
      }),
    );
  }, []);

  /** Sends `track` in place of the current one of its kind (screen share and back). */
  const replaceTrack = useCallback(async (track: MediaStreamTrack) => {
    const sender = pcRef.current?.getSenders().find((s) => s.track?.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }, []);

  /** The tracks being sent now (their `enabled` mutes and blanks them). */
  const sentTracks = useCallback(
    () => (pcRef.current?.getSenders() ?? []).flatMap((s) => (s.track ? [s.track] : [])),
    [],
  );

  /** The peer connection's statistics (`null` while not publishing). */
  const getStats = useCallback(() => pcRef.current?.getStats() ?? Promise.resolve(null), []);

  useEffect(
    () => () => {
      pcRef.current?.close();
      void remoteStopRef.current?.();
    },
    [],
  );

  return {
    state,
    error,
    publishing: state !== 'idle',
    publish,
    replaceTracks,
    replaceTrack,
    sentTracks,
    getStats,
    stop,
    e2ee: creatorE2ee.state,
  };
}
