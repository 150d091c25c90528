import {
  useEffect,
  useEffectEvent,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
  type RefObject,
} from 'react';

import { Button } from '@/components/ui/button';
import { cn } from '@/utils/cn';

function subscribeFullscreen(callback: () => void) {
  document.addEventListener('fullscreenchange', callback);
  return () => document.removeEventListener('fullscreenchange', callback);
}

type VideoPlayerProps = {
  stream: MediaStream | null;
  /** Accessible name of the video. */
  label: string;
  /** Shown over the video (connecting, errors). */
  overlay?: ReactNode;
  /** A local preview: mirrored, always muted, no sound controls. */
  preview?: boolean;
  className?: string;
  videoRef?: RefObject<HTMLVideoElement | null>;
  /**
   * Called once per stream when its first frame is presented
   * (`requestVideoFrameCallback`; `loadeddata` where the browser lacks it).
   */
  onFirstFrame?: () => void;
};

/**
 * A live video: starts muted (browsers only autoplay muted media), with
 * unmute and fullscreen controls that work from the keyboard.
 */
export function VideoPlayer({ stream, label, overlay, preview = false, className, videoRef, onFirstFrame }: VideoPlayerProps) {
  const ownRef = useRef<HTMLVideoElement | null>(null);
  const ref = videoRef ?? ownRef;
  const containerRef = useRef<HTMLDivElement>(null);
  const [muted, setMuted] = useState(true);
  const [blocked, setBlocked] = useState(false);
  const fullscreen = useSyncExternalStore(
    subscribeFullscreen,
    () => document.fullscreenElement !== null && document.fullscreenElement === containerRef.current,
    () => false,
  );

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    if (stream) {
      video.play().then(
        () => setBlocked(false),
        (error: unknown) => {
          // Aborted by a newer srcObject is not "blocked".
          if (error instanceof DOMException && error.name === 'NotAllowedError') setBlocked(true);
        },
      );
    }
  }, [stream, ref]);

  const firstFrame = useEffectEvent(() => onFirstFrame?.());
  useEffect(() => {
    const video = ref.current;
    if (!video || !stream) return;
    if (typeof video.requestVideoFrameCallback === 'function') {
      const handle = video.requestVideoFrameCallback(() => firstFrame());
      return () => video.cancelVideoFrameCallback(handle);
    }
    const onLoaded = () => firstFrame();
    video.addEventListener('loadeddata', onLoaded, { once: true });
    return () => video.removeEventListener('loadeddata', onLoaded);
  }, [stream, ref]);

  useEffect(() => {
    if (ref.current) ref.current.muted = preview || muted;
  }, [muted, preview, ref]);

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void containerRef.current?.requestFullscreen?.();
  };

  const play = () => {
    void ref.current?.play().then(() => setBlocked(false));
  };

  return (
    <div
      ref={containerRef}
      className={cn('group relative aspect-video w-full overflow-hidden rounded-xl bg-black', className)}
    >
      <video
        ref={ref}
        aria-label={label}
        autoPlay
        playsInline
        muted
        className={cn('size-full object-contain', preview && '-scale-x-100')}
      />
      {overlay && (
        <div className="absolute inset-0 flex items-center justify-center bg-black/60 p-4 text-center text-white">
          {overlay}
        </div>
      )}
      {blocked && !overlay && (
        <div className="absolute inset-0 flex items-center justify-center bg-black/40">
          <Button size="lg" onClick={play}>
            Play
          </Button>
        </div>
      )}
      {stream && !overlay && (
        <div className="absolute inset-x-0 bottom-0 flex justify-end gap-2 bg-gradient-to-t from-black/70 to-transparent p-2">
          {!preview && (
            <Button
              size="sm"
              variant="secondary"
              onClick={() => setMuted((m) => !m)}
              aria-pressed={!muted}
              className="bg-white/90 dark:bg-zinc-900/90"
            >
              {muted ? 'Unmute' : 'Mute'}
            </Button>
          )}
          <Button size="sm" variant="secondary" onClick={toggleFullscreen} className="bg-white/90 dark:bg-zinc-900/90">
            {fullscreen ? 'Exit fullscreen' : 'Fullscreen'}
          </Button>
        </div>
      )}
    </div>
  );
}
