/**
 * The creator's broadcast, owned above the pages (issue 19 part 4): the
 * camera/microphone stream, the publishing peer connection (SFU or
 * MediaMTX, E2EE when the room is), mute, camera off, screen share and the
 * outgoing stream's stats. The studio page is a view onto it, so moving
 * elsewhere inside the app keeps the room live; closing the tab or a hard
 * navigation asks first (`beforeunload`) and ends the peer.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';

import { useLocalPreview } from '@/lib/broadcast/local-preview';
import { usePublisher, type PublishState } from '@/lib/broadcast/publisher';
import { outgoingStats, outgoingVideoSample, type OutgoingSample, type OutgoingStats } from '@/lib/broadcast/stats';
import { BroadcastContext, type Broadcast } from '@/lib/broadcast/use-broadcast';
import { useRoomChannel } from '@/lib/room-channel';
import { useSocketEvent } from '@/lib/socket';

export type { PublishState };

/** How often the outgoing stream's figures are sampled. */
const STATS_INTERVAL_MS = 2_000;

function hasDisplayMedia(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function';
}

export function BroadcastProvider({ children }: { children: ReactNode }) {
  const preview = useLocalPreview();
  const publisher = usePublisher();
  const [room, setRoom] = useState<{ id: string; title: string } | null>(null);
  const [muted, setMuted] = useState(false);
  const [cameraOff, setCameraOff] = useState(false);
  const [paused, setPaused] = useState(false);
  const [screen, setScreen] = useState<MediaStream | null>(null);
  const [screenError, setScreenError] = useState<string | null>(null);
  const [stats, setStats] = useState<OutgoingStats | null>(null);
  const [peakViewers, setPeakViewers] = useState(0);
  const screenRef = useRef<MediaStream | null>(null);

  const roomId = room?.id ?? '';
  const { publishing } = publisher;
  const channel = useRoomChannel(roomId, publishing);
  const viewerCount = publishing ? (channel.data?.viewerCount ?? null) : null;
  if (viewerCount !== null && viewerCount > peakViewers) setPeakViewers(viewerCount);

  // Mute, camera off and the private-session pause act on the tracks sent
  // (and the preview's, which are the same objects unless sharing the screen).
  const { sentTracks } = publisher;
  useEffect(() => {
    const tracks = [...sentTracks(), ...(preview.stream?.getTracks() ?? []), ...(screen?.getTracks() ?? [])];
    for (const track of tracks) {
      // While the room is paused for the creator's private session
      // (`room:private`) it gets black frames and silence: the picture never
      // reaches its viewers, and the connection stays up for the return.
      track.enabled = !paused && (track.kind === 'audio' ? !muted : !cameraOff);
    }
  }, [sentTracks, preview.stream, screen, muted, cameraOff, paused, publisher.state]);

  useSocketEvent('room:private', ({ roomId: id, active }) => {
    if (id === roomId) setPaused(active);
  });

  const { stop: stopPublisher } = publisher;
  const stopScreen = useCallback(() => {
    for (const track of screenRef.current?.getTracks() ?? []) track.stop();
    screenRef.current = null;
    setScreen(null);
  }, []);

  const stop = useCallback(() => {
    stopPublisher();
    stopScreen();
    setPaused(false);
    setStats(null);
    // The next broadcast starts heard and seen (the controls show only while publishing).
    setMuted(false);
    setCameraOff(false);
  }, [stopPublisher, stopScreen]);

  // Ended elsewhere (another tab, the server's grace ran out): stop sending.
  useSocketEvent('room:ended', ({ roomId: id }) => {
    if (id === roomId && publishing) stop();
  });

  // Leaving the app ends the broadcast: ask first.
  useEffect(() => {
    if (!publishing) return;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers show the dialog only when a value is returned.
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [publishing]);

  // The outgoing stream's bitrate and frame rate while connected.
  const { getStats } = publisher;
  const connected = publisher.state === 'connected';
  useEffect(() => {
    if (!connected) return;
    let previous: OutgoingSample | null = null;
    let stopped = false;
    const sample = async () => {
      const report = await getStats().catch(() => null);
      if (stopped || !report) return;
      const current = outgoingVideoSample(report);
      if (current && previous) {
        const next = outgoingStats(previous, current);
        if (next) setStats(next);
      }
      previous = current;
    };
    void sample();
    const timer = setInterval(() => void sample(), STATS_INTERVAL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [connected, getStats]);

  const { publish: publishStream, replaceTracks, replaceTrack } = publisher;
  const publish = useCallback(
    async (target: { id: string; title: string; e2ee: boolean }) => {
      if (!preview.stream) return false;
      setRoom({ id: target.id, title: target.title });
      setPeakViewers(0);
      setStats(null);
      setPaused(false);
      return publishStream(target.id, preview.stream, target.e2ee);
    },
    [preview.stream, publishStream],
  );

  const { open: openPreview } = preview;
  const openDevices = useCallback(
    async (cameraId: string | null, microphoneId: string | null) => {
      const stream = await openPreview(cameraId, microphoneId);
      if (stream && publishing) {
        // While the screen is shared, a new camera waits for the share to end.
        await replaceTracks(screenRef.current ? stream.getAudioTracks() : stream.getTracks());
      }
      return stream;
    },
    [openPreview, publishing, replaceTracks],
  );

  const stopScreenShare = useCallback(async () => {
    stopScreen();
    const camera = preview.stream?.getVideoTracks()[0];
    if (camera) await replaceTrack(camera);
  }, [preview.stream, replaceTrack, stopScreen]);

  const startScreenShare = useCallback(async () => {
    setScreenError(null);
    try {
      const shared = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const track = shared.getVideoTracks()[0];
      if (!track) return;
      screenRef.current = shared;
      setScreen(shared);
      // The browser's own "Stop sharing" ends the track: back to the camera.
      track.addEventListener('ended', () => {
        if (screenRef.current === shared) void stopScreenShare();
      });
      await replaceTrack(track);
    } catch (e) {
      // Dismissing the browser's picker is a choice, not an error.
      if (e instanceof DOMException && e.name === 'NotAllowedError') return;
      setScreenError(e instanceof Error ? e.message : 'The screen could not be shared.');
    }
  }, [replaceTrack, stopScreenShare]);

  const { close: closePreview } = preview;
  const publishingRef = useRef(publishing);
  useEffect(() => {
    publishingRef.current = publishing;
  }, [publishing]);
  /** The studio page is left: the camera light goes off unless the stream goes on. */
  const releaseIfIdle = useCallback(() => {
    if (!publishingRef.current) closePreview();
  }, [closePreview]);

  const value = useMemo<Broadcast>(
    () => ({
      roomId: room?.id ?? null,
      roomTitle: room?.title ?? null,
      stream: preview.stream,
      screen,
      previewError: preview.error,
      opening: preview.opening,
      openDevices,
      closePreview,
      releaseIfIdle,
      state: publisher.state,
      error: publisher.error,
      publishing,
      publish,
      stop,
      e2ee: publisher.e2ee,
      muted,
      setMuted,
      cameraOff,
      setCameraOff,
      paused,
      screenShareSupported: hasDisplayMedia(),
      sharingScreen: screen !== null,
      screenError,
      startScreenShare,
      stopScreenShare,
      viewerCount,
      peakViewers,
      stats,
    }),
    [
      room,
      preview.stream,
      preview.error,
      preview.opening,
      screen,
      openDevices,
      closePreview,
      releaseIfIdle,
      publisher.state,
      publisher.error,
      publisher.e2ee,
      publishing,
      publish,
      stop,
      muted,
      cameraOff,
      paused,
      screenError,
      startScreenShare,
      stopScreenShare,
      viewerCount,
      peakViewers,
      stats,
    ],
  );

  return <BroadcastContext value={value}>{children}</BroadcastContext>;
}
