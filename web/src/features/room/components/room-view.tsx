import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';

import { SafetyNumber } from '@/components/safety-number';
import { VideoPlayer } from '@/components/video-player';
import { Alert } from '@/components/ui/alert';
import { Badge, EncryptedBadge, LiveBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Skeleton } from '@/components/ui/skeleton';
import { Spinner } from '@/components/ui/spinner';
import { QueryError } from '@/components/ui/query-error';
import { paths } from '@/config/paths';
import { useRoom } from '@/features/room/api/get-room';
import { usePayForRoom, type StreamJoinResult } from '@/features/room/api/pay-for-room';
import { AwayNotice } from '@/features/room/components/away-notice';
import { PayGate } from '@/features/room/components/pay-gate';
import { TipButton } from '@/features/room/components/tip-button';
import { useViewerStream } from '@/features/room/hooks/use-viewer-stream';
import { errorMessage, isApiError } from '@/lib/api-client';
import { E2EE_UNSUPPORTED_MESSAGE, prewarmFrameWorker } from '@/lib/e2ee/cryptor';
import { useBalance } from '@/lib/balance';
import { formatClock, formatCoins, formatPrice, formatViewers } from '@/lib/format';
import { useDocumentTitle, useSecondsSince } from '@/lib/hooks';
import { markPayStep, startPayTimeline } from '@/lib/pay-timeline';
import { queryKeys } from '@/lib/query-keys';
import { roomAwayUntil } from '@/lib/room-cache';
import { useRoomChannel } from '@/lib/room-channel';
import { SocketAckError, useSocketEvent } from '@/lib/socket';
import type { Room, User } from '@/types/api';
import { cn } from '@/utils/cn';

type RoomViewProps = {
  roomId: string;
  user: User | null;
  /**
   * The chat panel, composed by the route: `joined` says whether the user may
   * be in the room, `notice` why not.
   */
  renderChat?: (state: { joined: boolean; notice?: string }) => ReactNode;
  /** Under the creator's name: what a user can do with the creator (a private session), composed by the route. */
  renderCreatorActions?: (room: Room) => ReactNode;
};

function Stage({ children }: { children: ReactNode }) {
  return (
    <div className="flex aspect-video w-full flex-col items-center justify-center gap-3 rounded-xl bg-gradient-to-br from-zinc-800 to-zinc-950 p-6 text-center text-white">
      {children}
    </div>
  );
}

/** Whether the user may watch `room` right now (and so may join it). */
function canWatch(room: Room | undefined, user: User | null): boolean {
  return Boolean(user && room && room.status === 'live' && room.access !== undefined && room.access !== 'locked');
}

/** How long the stream has been live, ticking, over the picture. */
function Uptime({ since }: { since: string }) {
  const seconds = useSecondsSince(since) ?? 0;
  return (
    <span className="rounded bg-black/70 px-1.5 py-0.5 tabular-nums" data-testid="player-uptime">
      <span className="sr-only">Live for </span>
      {formatClock(seconds)}
    </span>
  );
}

function PaidNotice({ result }: { result: StreamJoinResult }) {
  return (
    <Alert tone="success">
      {result.alreadyPaid || !result.transaction
        ? `You already have access to this session. Your balance is ${formatCoins(result.balance)}.`
        : `Paid ${formatCoins(result.transaction.amount)}. Your balance is now ${formatCoins(result.balance)}.`}
    </Alert>
  );
}

/** The room page: the stage (video, pay gate or a state), details and the chat beside it. */
export function RoomView({ roomId, user, renderChat, renderCreatorActions }: RoomViewProps) {
  const location = useLocation();
  const roomQuery = useRoom(roomId);
  const balance = useBalance();
  const pay = usePayForRoom(roomId);
  const [paid, setPaid] = useState<StreamJoinResult | null>(null);
  const [theatre, setTheatre] = useState(false);

  const watching = canWatch(roomQuery.data, user);
  const channel = useRoomChannel(roomId, watching);
  // Remembered here too: once the room is offline the channel is left and forgotten.
  const [sawEnd, setSawEnd] = useState(false);
  useSocketEvent('room:ended', (event) => {
    if (event.roomId === roomId) setSawEnd(true);
  });
  const ended = channel.data?.ended === true || (sawEnd && roomQuery.data?.status !== 'live');
  const banned = channel.data?.banned === true;
  const viewer = useViewerStream(
    roomId,
    watching && channel.isSuccess && !ended && !banned,
    channel.data?.joinedAt ?? 0,
    roomQuery.data?.e2ee === true,
  );

  // The server says this session is not paid for (a new session started): show the pay gate again.
  const queryClient = useQueryClient();
  const paymentRequired = channel.error instanceof SocketAckError && channel.error.code === 'payment_required';
  useEffect(() => {
    if (paymentRequired) void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.detail(roomId) });
  }, [paymentRequired, queryClient, roomId]);

  useDocumentTitle(roomQuery.data?.title ?? 'Room');
  // The frame worker loads while the viewer reads the pay gate, not after Pay.
  const e2eeRoom = roomQuery.data?.e2ee === true;
  useEffect(() => {
    if (e2eeRoom) prewarmFrameWorker();
  }, [e2eeRoom]);

  if (roomQuery.isPending) {
    return (
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]" aria-busy="true">
        <div className="space-y-4">
          <Skeleton className="aspect-video w-full rounded-xl" />
          <Skeleton className="h-6 w-2/3" />
          <Skeleton className="h-4 w-1/3" />
        </div>
        <Skeleton className="h-96 rounded-xl" />
      </div>
    );
  }

  if (roomQuery.isError) {
    return isApiError(roomQuery.error) && roomQuery.error.status === 404 ? (
      <Alert tone="error" title="This room does not exist.">
        <Link to={paths.home.getHref()} className="underline">
          Browse live streams
        </Link>
      </Alert>
    ) : (
      <QueryError title="The room could not be loaded." error={roomQuery.error} onRetry={roomQuery.refetch} />
    );
  }

  const room = roomQuery.data;
  const here = `${location.pathname}${location.search}`;
  const viewerCount = channel.data?.viewerCount ?? room.viewerCount;

  let stage: ReactNode;
  if (banned) {
    stage = (
      <Stage>
        <p className="text-xl font-semibold">You were removed from this room</p>
        <p className="text-sm text-zinc-300">The creator banned you from this room.</p>
        <Link to={paths.home.getHref()} className="rounded-lg bg-white px-4 py-2 text-sm font-medium text-zinc-900">
          Find another stream
        </Link>
      </Stage>
    );
  } else if (ended) {
    stage = (
      <Stage>
        <p className="text-xl font-semibold">The stream has ended</p>
        <p className="text-sm text-zinc-300">Thanks for watching. {room.creator.displayName} is offline now.</p>
        <Link to={paths.home.getHref()} className="rounded-lg bg-white px-4 py-2 text-sm font-medium text-zinc-900">
          Find another stream
        </Link>
      </Stage>
    );
  } else if (room.status !== 'live') {
    stage = (
      <Stage>
        <p className="text-xl font-semibold">{room.creator.displayName} is offline</p>
        <p className="text-sm text-zinc-300">This page notices when the stream starts.</p>
      </Stage>
    );
  } else if (!user) {
    stage = (
      <Stage>
        <p className="text-xl font-semibold">{room.price === 0 ? 'Free to watch' : `Entry: ${formatPrice(room.price)}`}</p>
        <p className="text-sm text-zinc-300">Log in to watch and chat.</p>
        <div className="flex gap-2">
          <Link to={paths.login.getHref(here)} className="rounded-lg bg-white px-4 py-2 text-sm font-medium text-zinc-900">
            Log in
          </Link>
          <Link to={paths.register.getHref(here)} className="rounded-lg bg-brand-600 px-4 py-2 text-sm font-medium text-white">
            Sign up
          </Link>
        </div>
      </Stage>
    );
  } else if (room.access === 'locked') {
    stage = (
      <PayGate
        room={room}
        balance={balance}
        isPaying={pay.isPending}
        error={pay.error}
        onPay={() => {
          startPayTimeline(room.id);
          pay.mutate(
            { creatorId: room.creator.id, roomId: room.id, amount: room.price },
            { onSuccess: (result) => setPaid(result) },
          );
        }}
      />
    );
  } else if (channel.isError) {
    stage = (
      <Stage>
        <p className="font-semibold">Could not enter the room.</p>
        <p className="text-sm text-zinc-300">{errorMessage(channel.error)}</p>
        <Button variant="secondary" onClick={() => void channel.refetch()}>
          Try again
        </Button>
      </Stage>
    );
  } else {
    let overlay: ReactNode = null;
    const awayUntil = roomAwayUntil(room);
    if (room.inPrivate) {
      // The creator paused the room for a private session (`room:private`):
      // an opaque card, and no picture or sound under it.
      overlay = (
        <div
          data-testid="room-private-overlay"
          className="absolute inset-0 flex flex-col items-center justify-center gap-1 bg-zinc-950 p-4 text-center text-white"
        >
          <p className="text-lg font-semibold">{room.creator.displayName} is in a private session</p>
          <p className="text-sm text-zinc-300">The stream continues here when it ends.</p>
        </div>
      );
    } else if (awayUntil !== null) {
      // The creator's media is gone (`room:away`): say so rather than show a frozen frame.
      overlay = <AwayNotice awayUntil={awayUntil} />;
    } else if (!channel.isSuccess || viewer.status === 'connecting') {
      overlay = (
        <div className="flex flex-col items-center gap-2">
          <Spinner label="Connecting to the stream" />
          <p className="text-sm">Connecting…</p>
        </div>
      );
    } else if (viewer.status === 'unsupported') {
      overlay = <p className="text-sm">This browser cannot play WebRTC streams.</p>;
    } else if (viewer.status === 'e2ee-unsupported') {
      overlay = <p className="max-w-md text-sm">{E2EE_UNSUPPORTED_MESSAGE}</p>;
    } else if (viewer.status === 'playing' && viewer.e2ee && !viewer.e2ee.hasKey) {
      // Frames arrive encrypted; without the key nothing can be shown.
      overlay = viewer.e2ee.error ? (
        <p className="max-w-md text-sm">The creator’s key could not be requested: {viewer.e2ee.error}</p>
      ) : (
        <div className="flex flex-col items-center gap-2">
          <Spinner label="Waiting for the decryption key" />
          <p className="text-sm">Waiting for the creator’s key…</p>
        </div>
      );
    } else if (viewer.status === 'failed') {
      overlay = (
        <div className="flex flex-col items-center gap-2">
          <p className="text-sm">{viewer.error ?? 'The video could not be started.'}</p>
          <Button variant="secondary" size="sm" onClick={viewer.retry}>
            Retry
          </Button>
        </div>
      );
    }
    stage = (
      <VideoPlayer
        stream={room.inPrivate ? null : viewer.stream}
        label={`Live video: ${room.title}`}
        overlay={overlay}
        onFirstFrame={() => markPayStep(room.id, 'firstFrame')}
        live
        theatre={theatre}
        onTheatreChange={setTheatre}
        reconnecting={viewer.status === 'reconnecting'}
        info={
          <>
            {room.startedAt && <Uptime since={room.startedAt} />}
            <span className="rounded bg-black/70 px-1.5 py-0.5 tabular-nums" data-testid="player-viewer-count">
              {formatViewers(viewerCount)}
            </span>
          </>
        }
      />
    );
  }

  let chatNotice: string | undefined;
  if (banned) chatNotice = 'The creator banned you from this room.';
  else if (ended) chatNotice = 'The stream has ended.';
  else if (room.status !== 'live') chatNotice = 'The chat opens when the stream is live.';
  else if (room.access === 'locked') chatNotice = 'Pay to enter the room and join the chat.';

  // The failed payment stays explained even after the room changed under it.
  // (A refusal while the creator was away is moot once the session is over.)
  const lostPayment =
    pay.isError && !isApiError(pay.error, 'publisher_away') && room.access === 'locked' && room.status !== 'live';

  return (
    <div
      className={cn('grid gap-6', theatre ? 'lg:grid-cols-1' : 'lg:grid-cols-[minmax(0,1fr)_22rem]')}
      data-theatre={theatre || undefined}
    >
      <div className="min-w-0 space-y-4">
        {paid && room.access !== 'locked' && <PaidNotice result={paid} />}
        {lostPayment && (
          <Alert tone="error">{isApiError(pay.error) ? pay.error.message : 'The payment did not go through.'}</Alert>
        )}
        {stage}
        <div className="space-y-2">
          <div className="flex flex-wrap items-center gap-2">
            {room.status === 'live' && !ended ? <LiveBadge /> : <Badge>Offline</Badge>}
            {!ended && roomAwayUntil(room) !== null && <Badge tone="warning">Reconnecting</Badge>}
            {room.status === 'live' && !ended && room.inPrivate && <Badge tone="warning">In a private session</Badge>}
            {room.status === 'live' && !ended && (
              <Badge>
                <span data-testid="room-viewer-count">{formatViewers(viewerCount)}</span>
              </Badge>
            )}
            <Badge tone={room.price === 0 ? 'brand' : 'neutral'}>{formatPrice(room.price)}</Badge>
            {room.e2ee && <EncryptedBadge />}
            {room.category && <Badge className="capitalize">{room.category}</Badge>}
            {room.access === 'creator' && (
              <Link to={paths.studioRoom.getHref(room.id)} className="text-sm font-medium text-brand-700 underline dark:text-brand-100">
                Open in studio
              </Link>
            )}
          </div>
          {room.e2ee && viewer.e2ee && <SafetyNumber value={viewer.e2ee.safetyNumber} who="viewer" />}
          <h1 className="text-xl font-bold tracking-tight break-words sm:text-2xl">{room.title}</h1>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {room.creator.displayName} <span className="text-zinc-500 dark:text-zinc-400">@{room.creator.username}</span>
          </p>
          {renderCreatorActions?.(room)}
          {room.description && (
            <p className="text-sm whitespace-pre-line text-zinc-700 dark:text-zinc-300">{room.description}</p>
          )}
          {/* Viewers in the room tip its creator (issue 16). */}
          {watching && channel.isSuccess && !ended && !banned && room.access !== 'creator' && <TipButton roomId={room.id} />}
        </div>
      </div>
      {renderChat && (
        <aside
          aria-label="Chat"
          className={cn('min-w-0', theatre ? 'lg:h-[32rem]' : 'lg:sticky lg:top-20 lg:h-[calc(100dvh-8rem)]')}
        >
          {renderChat({ joined: watching && !ended && !banned, notice: chatNotice })}
        </aside>
      )}
    </div>
  );
}
