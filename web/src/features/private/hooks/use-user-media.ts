import { useCallback, useEffect, useState } from 'react';

import { describeMediaError, hasMediaDevices, openUserMedia } from '@/lib/media';
import { stopStream } from '@/lib/webrtc';

/**
 * This party's camera and microphone while `enabled` (the session is
 * active), with mute and camera-off. Both switch the track off
 * (`enabled = false`: silence and black frames are sent) rather than
 * remove it, so nothing is renegotiated and switching back is instant.
 */
export function useUserMedia(enabled: boolean) {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [muted, setMuted] = useState(false);
  const [cameraOff, setCameraOff] = useState(false);

  const supported = hasMediaDevices();

  useEffect(() => {
    if (!enabled || !supported) return;
    let opened: MediaStream | null = null;
    let cancelled = false;
    openUserMedia(null, null).then(
      (next) => {
        if (cancelled) {
          stopStream(next);
          return;
        }
        opened = next;
        setStream(next);
      },
      (e: unknown) => {
        if (!cancelled) setError(describeMediaError(e));
      },
    );
    // The camera light goes off when the session ends or the page is left.
    return () => {
      cancelled = true;
      stopStream(opened);
      setStream(null);
    };
  }, [enabled, supported, attempt]);

  useEffect(() => {
    stream?.getAudioTracks().forEach((track) => (track.enabled = !muted));
  }, [stream, muted]);

  useEffect(() => {
    stream?.getVideoTracks().forEach((track) => (track.enabled = !cameraOff));
  }, [stream, cameraOff]);

  return {
    stream,
    error: supported ? error : 'This browser cannot use a camera or microphone.',
    muted,
    cameraOff,
    toggleMute: useCallback(() => setMuted((m) => !m), []),
    toggleCamera: useCallback(() => setCameraOff((c) => !c), []),
    retry: useCallback(() => {
      setError(null);
      setAttempt((a) => a + 1);
    }, []),
  };
}
