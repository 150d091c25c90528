import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';

import { VideoPlayer } from '@/components/video-player';
import { Alert } from '@/components/ui/alert';
import { SafetyNumber } from '@/components/safety-number';
import { Badge, EncryptedBadge, LiveBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { paths } from '@/config/paths';
import { useEndLive } from '@/features/studio/api/end-live';
import { useSessionEarnings } from '@/features/studio/api/get-session-earnings';
import { useStudioRoom } from '@/features/studio/api/get-studio-room';
import { useGoLive } from '@/features/studio/api/go-live';
import { useUpdateRoom } from '@/features/studio/api/update-room';
import { DevicePicker } from '@/features/studio/components/device-picker';
import { ObsPanel } from '@/features/studio/components/obs-panel';
import { RoomForm } from '@/features/studio/components/room-form';
import { ViewerFeed, type FeedItem } from '@/features/studio/components/viewer-feed';
import { useMediaDevices } from '@/features/studio/hooks/use-media-devices';
import { useThumbnailUploader } from '@/features/studio/hooks/use-thumbnail-uploader';
import { BroadcastControls } from '@/features/studio/components/broadcast-controls';
import { errorMessage, isApiError } from '@/lib/api-client';
import type { PublishState } from '@/lib/broadcast/publisher';
import { useBroadcast } from '@/lib/broadcast/use-broadcast';
import { formatCoins, formatCountdown, formatNumber, formatPrice } from '@/lib/format';
import { useDocumentTitle, useSecondsLeft } from '@/lib/hooks';
import { roomAwayUntil } from '@/lib/room-cache';
import { roomChannelQueryOptions, useRoomChannel } from '@/lib/room-channel';
import { useSocketEvent } from '@/lib/socket';
import type { User } from '@/types/api';

type StudioRoomProps = {
  roomId: string;
  user: User;
  /** The room's chat, composed by the route; `joined` while the room is live. */
  renderChat?: (state: { joined: boolean; notice?: string }) => ReactNode;
};

const PUBLISH_LABELS: Record<PublishState, string> = {
  idle: 'Not publishing from this browser',
  starting: 'Starting…',
  new: 'Connecting…',
  connecting: 'Connecting…',
  connected: 'Publishing',
  disconnected: 'Connection interrupted, reconnecting…',
  failed: 'Publishing failed',
  closed: 'Stopped',
};

/**
 * The server lost this room's media (`room:away`: the studio tab was left,
 * the network dropped): viewers wait and nothing is sold until it is back.
 */
function AwayAlert({ awayUntil }: { awayUntil: string }) {
  const left = useSecondsLeft(awayUntil) ?? 0;
  return (
    <Alert tone="warning" title="Your picture is not reaching viewers">
      <span data-testid="studio-away">
        They see that you are reconnecting, and nobody can pay meanwhile.{' '}
        {left > 0
          ? `The session ends in ${formatCountdown(left)} unless you publish again.`
          : 'The session is ending.'}
      </span>
    </Alert>
  );
}

function StatTile({ label, testId, children }: { label: string; testId: string; children: ReactNode }) {
  return (
    <div className="rounded-lg bg-zinc-100 p-3 dark:bg-zinc-800">
      <dt className="text-xs text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="text-2xl font-bold tabular-nums" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

const MAX_FEED = 50;
let feedSeq = 0;

/** One room's control room: preview and devices, go live and end, stats, settings, OBS. */
export function StudioRoom({ roomId, user, renderChat }: StudioRoomProps) {
  const queryClient = useQueryClient();
  const roomQuery = useStudioRoom(roomId);
  const room = roomQuery.data;
  const live = room?.status === 'live';
  const mine = room !== undefined && room.creator.id === user.id;

  const devices = useMediaDevices();
  const broadcast = useBroadcast();
  // Another room of this creator is on air from this browser: this page only points there.
  const elsewhere = broadcast.publishing && broadcast.roomId !== null && broadcast.roomId !== roomId;
  const preview = {
    stream: elsewhere ? null : (broadcast.screen ?? broadcast.stream),
    error: broadcast.previewError,
    opening: broadcast.opening,
    close: broadcast.closePreview,
  };
  const publisher = {
    state: elsewhere ? ('idle' as const) : broadcast.state,
    publishing: !elsewhere && broadcast.publishing,
    error: elsewhere ? null : broadcast.error,
    e2ee: elsewhere ? null : broadcast.e2ee,
    stop: broadcast.stop,
  };
  const goLive = useGoLive(roomId);
  const endLive = useEndLive(roomId);
  const update = useUpdateRoom(roomId);
  const [cameraId, setCameraId] = useState('');
  const [microphoneId, setMicrophoneId] = useState('');
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [endedSession, setEndedSession] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const videoRef = useRef<HTMLVideoElement | null>(null);

  const channel = useRoomChannel(roomId, mine && live);
  const sessionId = room?.liveSessionId ?? endedSession;
  const earnings = useSessionEarnings(sessionId, user.id);
  const thumbnails = useThumbnailUploader(
    roomId,
    videoRef,
    // An E2EE room's picture never goes to the server, not even as a thumbnail.
    live && room.e2ee !== true && publisher.state === 'connected',
  );

  useDocumentTitle(room ? `Studio: ${room.title}` : 'Studio');

  const onPresence = (joined: boolean) => (event: { roomId: string; user: { username: string } }) => {
    if (event.roomId !== roomId) return;
    feedSeq += 1;
    const item: FeedItem = {
      id: feedSeq,
      joined,
      at: new Date().toISOString(),
      text: `${event.user.username} ${joined ? 'entered' : 'left'}`,
    };
    setFeed((items) => [item, ...items].slice(0, MAX_FEED));
  };
  useSocketEvent('room:viewer_joined', onPresence(true));
  useSocketEvent('room:viewer_left', onPresence(false));

  // The broadcast goes on when the page is left (the app's live bar leads
  // back); a camera that was only previewed goes off.
  const { releaseIfIdle } = broadcast;
  useEffect(() => releaseIfIdle, [releaseIfIdle]);

  if (roomQuery.isPending) {
    return (
      <div className="space-y-4" aria-busy="true">
        <Skeleton className="h-8 w-1/2" />
        <Skeleton className="aspect-video w-full max-w-3xl rounded-xl" />
      </div>
    );
  }
  if (roomQuery.isError) {
    return (
      <Alert tone="error" title={isApiError(roomQuery.error) && roomQuery.error.status === 404 ? 'This room does not exist.' : 'The room could not be loaded.'}>
        {errorMessage(roomQuery.error)}{' '}
        <Link to={paths.studio.getHref()} className="underline">
          Back to your rooms
        </Link>
      </Alert>
    );
  }
  if (!mine) {
    return (
      <Alert tone="error" title="This is not your room.">
        <Link to={paths.room.getHref(roomId)} className="underline">
          Watch it instead
        </Link>
      </Alert>
    );
  }

  if (elsewhere && broadcast.roomId) {
    return (
      <Alert tone="warning" title="You are live in another room from this browser.">
        End that broadcast before going live here.{' '}
        <Link to={paths.studioRoom.getHref(broadcast.roomId)} className="underline">
          Back to {broadcast.roomTitle ?? 'that room'}
        </Link>
      </Alert>
    );
  }

  const openPreview = async (camera: string, microphone: string) => {
    await broadcast.openDevices(camera || null, microphone || null);
    devices.refresh();
  };

  const publishPreview = async () => {
    if (!broadcast.stream) return;
    // Be in the room before publishing into it (a no-op when already joined).
    await queryClient.fetchQuery(roomChannelQueryOptions(roomId)).catch(() => undefined);
    await broadcast.publish({ id: roomId, title: room.title, e2ee: room.e2ee === true });
  };

  const onGoLive = async () => {
    setEndedSession(null);
    setFeed([]);
    try {
      await goLive.mutateAsync();
    } catch {
      return; // shown from goLive.error
    }
    await publishPreview();
  };

  const onEnd = () => {
    if (room.liveSessionId) setEndedSession(room.liveSessionId);
    publisher.stop();
    endLive.mutate();
  };

  const viewerCount = channel.data?.viewerCount ?? room.viewerCount;
  const awayUntil = roomAwayUntil(room);
  const actionError = goLive.error ?? endLive.error;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <Link to={paths.studio.getHref()} className="text-sm text-zinc-600 hover:underline dark:text-zinc-400">
          ← Your rooms
        </Link>
        <h1 className="min-w-0 flex-1 truncate text-2xl font-bold tracking-tight">{room.title}</h1>
        {live ? <LiveBadge /> : <Badge>Offline</Badge>}
        {room.e2ee && <EncryptedBadge />}
        <Link to={paths.room.getHref(roomId)} className="text-sm font-medium text-brand-700 underline dark:text-brand-100">
          Room page
        </Link>
      </div>

      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-6">
          <Card title="Camera and microphone">
            <div className="space-y-4">
              <VideoPlayer
                videoRef={videoRef}
                preview
                stream={preview.stream}
                label="Your camera preview"
                overlay={
                  preview.stream ? null : (
                    <div className="space-y-3">
                      <p className="text-sm">
                        {devices.supported
                          ? 'Turn on your camera to preview and go live from the browser.'
                          : window.isSecureContext
                            ? 'This browser has no camera access. You can still go live with OBS.'
                            : 'Camera access needs HTTPS (or localhost). You can still go live with OBS.'}
                      </p>
                      {devices.supported && (
                        <Button isLoading={preview.opening} onClick={() => void openPreview(cameraId, microphoneId)}>
                          Turn on camera
                        </Button>
                      )}
                    </div>
                  )
                }
              />
              {preview.error && <Alert tone="error">{preview.error}</Alert>}
              <DevicePicker
                cameras={devices.cameras}
                microphones={devices.microphones}
                cameraId={cameraId}
                microphoneId={microphoneId}
                disabled={preview.opening}
                onCameraChange={(id) => {
                  setCameraId(id);
                  if (preview.stream) void openPreview(id, microphoneId);
                }}
                onMicrophoneChange={(id) => {
                  setMicrophoneId(id);
                  if (preview.stream) void openPreview(cameraId, id);
                }}
              />
              <div className="flex flex-wrap items-center gap-2">
                {!live ? (
                  <Button
                    size="lg"
                    isLoading={goLive.isPending || publisher.state === 'starting'}
                    // OBS cannot encrypt frames: an E2EE room goes live from the camera.
                    disabled={room.e2ee && !preview.stream}
                    onClick={() => void onGoLive()}
                  >
                    {preview.stream || room.e2ee ? 'Go live' : 'Go live (OBS)'}
                  </Button>
                ) : (
                  <>
                    <Button size="lg" variant="danger" isLoading={endLive.isPending} onClick={onEnd}>
                      End stream
                    </Button>
                    {preview.stream && !publisher.publishing && (
                      <Button size="lg" variant="secondary" onClick={() => void publishPreview()}>
                        Publish camera
                      </Button>
                    )}
                  </>
                )}
                {preview.stream && !publisher.publishing && (
                  <Button variant="ghost" onClick={preview.close}>
                    Turn off camera
                  </Button>
                )}
              </div>
              {live && publisher.publishing && (
                <BroadcastControls
                  muted={broadcast.muted}
                  setMuted={broadcast.setMuted}
                  cameraOff={broadcast.cameraOff}
                  setCameraOff={broadcast.setCameraOff}
                  screenShareSupported={broadcast.screenShareSupported}
                  sharingScreen={broadcast.sharingScreen}
                  screenError={broadcast.screenError}
                  startScreenShare={broadcast.startScreenShare}
                  stopScreenShare={broadcast.stopScreenShare}
                />
              )}
              <p className="text-sm text-zinc-600 dark:text-zinc-400" role="status">
                {live ? PUBLISH_LABELS[publisher.state] : 'Offline'}
                {live && !preview.stream && !publisher.publishing && ' — waiting for OBS or a camera.'}
              </p>
              {room.e2ee && !live && !preview.stream && (
                <p className="text-sm text-zinc-600 dark:text-zinc-400">
                  This room is end-to-end encrypted: turn on your camera to go live from the browser.
                </p>
              )}
              {room.e2ee && publisher.e2ee && (
                <div className="space-y-1 rounded-lg bg-brand-100/50 p-3 dark:bg-brand-700/20" data-testid="studio-e2ee">
                  <p className="text-sm">
                    Frames are encrypted in this browser. {publisher.e2ee.holders}{' '}
                    {publisher.e2ee.holders === 1 ? 'viewer page holds' : 'viewer pages hold'} the key (key{' '}
                    <span data-testid="studio-e2ee-key-id">{publisher.e2ee.currentKeyId ?? '—'}</span>).
                  </p>
                  <SafetyNumber value={publisher.e2ee.safetyNumber} who="creator" />
                </div>
              )}
              {awayUntil !== null && <AwayAlert awayUntil={awayUntil} />}
              {publisher.error && <Alert tone="error" title="Publishing failed">{publisher.error}</Alert>}
              {actionError && <Alert tone="error">{errorMessage(actionError)}</Alert>}
              {thumbnails.lastError !== null && (
                <p className="text-xs text-amber-700 dark:text-amber-300">Thumbnail upload failed: {errorMessage(thumbnails.lastError)}</p>
              )}
            </div>
          </Card>

          <Card title="Room settings">
            {saved && !update.isPending && (
              <Alert tone="success" className="mb-3">
                Saved.
              </Alert>
            )}
            <RoomForm
              key={room.id}
              initial={{ title: room.title, description: room.description, category: room.category, price: room.price, e2ee: room.e2ee }}
              submitLabel="Save changes"
              isPending={update.isPending}
              error={update.error}
              e2eeLockedReason={live ? 'End the broadcast to change encryption.' : undefined}
              onSubmit={({ e2ee, ...fields }) => {
                setSaved(false);
                // Encryption is sent only when it changes (it cannot change while live).
                update.mutate(e2ee === room.e2ee ? fields : { ...fields, e2ee }, { onSuccess: () => setSaved(true) });
              }}
            />
            <p className="mt-3 text-xs text-zinc-500 dark:text-zinc-400">
              Current price: {formatPrice(room.price)}. A new price applies to payments from now on.
            </p>
          </Card>

          <ObsPanel roomId={roomId} e2ee={room.e2ee} />
        </div>

        <div className="min-w-0 space-y-6">
          <Card title={live ? 'This session' : 'Last session'}>
            <dl className="grid grid-cols-2 gap-3">
              <div className="rounded-lg bg-zinc-100 p-3 dark:bg-zinc-800">
                <dt className="text-xs text-zinc-600 dark:text-zinc-400">Watching now</dt>
                <dd className="text-2xl font-bold tabular-nums" data-testid="studio-viewer-count">
                  {live ? formatNumber(viewerCount) : '—'}
                </dd>
              </div>
              <div className="rounded-lg bg-zinc-100 p-3 dark:bg-zinc-800">
                <dt className="text-xs text-zinc-600 dark:text-zinc-400">Coins earned</dt>
                <dd className="text-2xl font-bold tabular-nums" data-testid="studio-earnings">
                  {sessionId === null ? '—' : earnings.data ? formatNumber(earnings.data.coins) : '…'}
                </dd>
              </div>
              <StatTile label="Peak viewers" testId="studio-peak-viewers">
                {live && publisher.publishing ? formatNumber(Math.max(broadcast.peakViewers, viewerCount)) : '—'}
              </StatTile>
              <StatTile label="Outgoing video" testId="studio-outgoing">
                {live && publisher.publishing && broadcast.stats ? (
                  <span className="text-base">
                    {formatNumber(broadcast.stats.bitrateKbps)} kbps
                    {broadcast.stats.fps !== null && ` · ${broadcast.stats.fps} fps`}
                  </span>
                ) : (
                  '—'
                )}
              </StatTile>
            </dl>
            {earnings.data && earnings.data.payments > 0 && (
              <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400">
                {earnings.data.payments} {earnings.data.payments === 1 ? 'payment' : 'payments'}, {formatCoins(earnings.data.coins)}
              </p>
            )}
            {earnings.isError && <p className="mt-2 text-xs text-red-600">{errorMessage(earnings.error)}</p>}
            <h3 className="mt-4 mb-2 text-sm font-semibold">Viewer activity</h3>
            <ViewerFeed items={feed} />
          </Card>
          {renderChat && <div className="h-[28rem]">{renderChat({ joined: live, notice: 'The chat opens when you go live.' })}</div>}
        </div>
      </div>
    </div>
  );
}
