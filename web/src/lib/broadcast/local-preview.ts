import { useCallback, useEffect, useRef, useState } from 'react';

import { describeMediaError, openUserMedia } from '@/lib/media';
import { stopStream } from '@/lib/webrtc';

/** The camera and microphone preview: opened on request, reopened when the devices change. */
export function useLocalPreview() {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [opening, setOpening] = useState(false);
  const current = useRef<MediaStream | null>(null);

  const open = useCallback(async (cameraId: string | null, microphoneId: string | null) => {
    setOpening(true);
    setError(null);
    try {
      const next = await openUserMedia(cameraId, microphoneId);
      stopStream(current.current);
      current.current = next;
      setStream(next);
      return next;
    } catch (e) {
      setError(describeMediaError(e));
      return null;
    } finally {
      setOpening(false);
    }
  }, []);

  const close = useCallback(() => {
    stopStream(current.current);
    current.current = null;
    setStream(null);
  }, []);

  // The camera light goes off when the studio is left.
  useEffect(() => () => stopStream(current.current), []);

  return { stream, error, opening, open, close };
}
