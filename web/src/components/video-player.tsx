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
  /**
   * A live stream's player (the room page): a volume slider,
   * picture-in-picture, `f`/`m`/`t` shortcuts (ignored while typing) and,
   * with `onTheatreChange`, a theatre toggle for wide screens.
   */
  live?: boolean;
  theatre?: boolean;
  onTheatreChange?: (theatre: boolean) => void;
  /** Top-left over the picture (uptime, viewer count). */
  info?: ReactNode;
  /** The connection dropped for a moment: the last picture stays, with a notice. */
  reconnecting?: boolean;
};

function subscribePip(callback: () => void) {
  document.addEventListener('enterpictureinpicture', callback, true);
  document.addEventListener('leavepictureinpicture', callback, true);
  return () => {
    document.removeEventListener('enterpictureinpicture', callback, true);
    document.removeEventListener('leavepictureinpicture', callback, true);
  };
}

/** A key press meant for a text field, a select or a button's own handling: not a shortcut. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * A video: starts muted (browsers only autoplay muted media), with
 * unmute and fullscreen controls that work from the keyboard.
 */
export function VideoPlayer({
  stream,
  label,
  overlay,
  preview = false,
  className,
  videoRef,
  onFirstFrame,
  live = false,
  theatre = false,
  onTheatreChange,
  info,
  reconnecting = false,
}: VideoPlayerProps) {
  const ownRef = useRef<HTMLVideoElement | null>(null);
  const ref = videoRef ?? ownRef;
  const containerRef = useRef<HTMLDivElement>(null);
  const [muted, setMuted] = useState(true);
  const [blocked, setBlocked] = useState(false);
  const [volume, setVolume] = useState(1);
  const pip = useSyncExternalStore(
    subscribePip,
    () => document.pictureInPictureElement != null && document.pictureInPictureElement === ref.current,
    () => false,
  );
  const pipSupported = typeof document !== 'undefined' && document.pictureInPictureEnabled === true;
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

  useEffect(() => {
    if (ref.current) ref.current.volume = volume;
  }, [volume, ref]);

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void containerRef.current?.requestFullscreen?.();
  };

  const togglePip = () => {
    if (document.pictureInPictureElement) void document.exitPictureInPicture();
    else void ref.current?.requestPictureInPicture?.().catch(() => undefined);
  };

  const onVolume = (value: number) => {
    setVolume(value);
    setMuted(value === 0);
  };

  const shortcut = useEffectEvent((event: KeyboardEvent) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === 'f') toggleFullscreen();
    else if (key === 'm') setMuted((m) => !m);
    else if (key === 't' && onTheatreChange) onTheatreChange(!theatre);
    else return;
    event.preventDefault();
  });
  const shortcutsOn = live && stream !== null;
  useEffect(() => {
    if (!shortcutsOn) return;
    const onKey = (event: KeyboardEvent) => shortcut(event);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [shortcutsOn]);

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
      {info && !overlay && (
        <div className="pointer-events-none absolute top-2 left-2 flex flex-wrap gap-1.5 text-xs font-semibold text-white">
          {info}
        </div>
      )}
      {overlay && (
        <div className="absolute inset-0 flex items-center justify-center bg-black/60 p-4 text-center text-white">
          {overlay}
        </div>
      )}
      {reconnecting && !overlay && (
        <div
          role="status"
          data-testid="player-reconnecting"
          className="absolute inset-x-0 top-1/2 mx-auto w-fit -translate-y-1/2 rounded-lg bg-black/75 px-4 py-2 text-sm text-white"
        >
          Reconnecting…
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
        <div
          className="absolute inset-x-0 bottom-0 flex flex-wrap items-center justify-end gap-2 bg-gradient-to-t from-black/70 to-transparent p-2"
          role={live ? 'group' : undefined}
          aria-label={live ? 'Player controls' : undefined}
        >
          {!preview && (
            <Button
              size="sm"
              variant="secondary"
              onClick={() => setMuted((m) => !m)}
              aria-pressed={!muted}
              aria-keyshortcuts={live ? 'm' : undefined}
              className="bg-white/90 dark:bg-zinc-900/90"
            >
              {muted ? 'Unmute' : 'Mute'}
            </Button>
          )}
          {live && (
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={muted ? 0 : volume}
              onChange={(e) => onVolume(Number(e.target.value))}
              aria-label="Volume"
              aria-valuetext={`${Math.round((muted ? 0 : volume) * 100)}%`}
              // Phones set the volume with their own buttons; the slider would crowd the picture.
              className="hidden w-28 accent-brand-500 sm:block"
            />
          )}
          {live && pipSupported && (
            <Button size="sm" variant="secondary" onClick={togglePip} aria-pressed={pip} className="bg-white/90 dark:bg-zinc-900/90">
              Picture in picture
            </Button>
          )}
          {onTheatreChange && (
            <Button
              size="sm"
              variant="secondary"
              onClick={() => onTheatreChange(!theatre)}
              aria-pressed={theatre}
              aria-keyshortcuts="t"
              // Theatre widens the stage beside the chat: only wide screens have that layout.
              className="hidden bg-white/90 lg:inline-flex dark:bg-zinc-900/90"
            >
              Theatre mode
            </Button>
          )}
          <Button
            size="sm"
            variant="secondary"
            onClick={toggleFullscreen}
            aria-keyshortcuts={live ? 'f' : undefined}
            className="bg-white/90 dark:bg-zinc-900/90"
          >
            {fullscreen ? 'Exit fullscreen' : 'Fullscreen'}
          </Button>
        </div>
      )}
    </div>
  );
}
