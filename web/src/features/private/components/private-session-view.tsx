import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';

import { VideoPlayer } from '@/components/video-player';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { Spinner } from '@/components/ui/spinner';
import { QueryError } from '@/components/ui/query-error';
import { paths } from '@/config/paths';
import { useAcceptSession } from '@/features/private/api/accept-session';
import { useCancelSession } from '@/features/private/api/cancel-session';
import { useDeclineSession } from '@/features/private/api/decline-session';
import { describePrivateError } from '@/features/private/api/describe-error';
import { useEndSession } from '@/features/private/api/end-session';
import { usePrivateSession } from '@/features/private/api/get-session';
import { usePrivateCall } from '@/features/private/hooks/use-private-call';
import { useUserMedia } from '@/features/private/hooks/use-user-media';
import { errorMessage, isApiError } from '@/lib/api-client';
import { useBalance } from '@/lib/balance';
import { formatClock, formatCoins, formatCountdown, formatNumber, formatSeconds } from '@/lib/format';
import { useDocumentTitle, useSecondsLeft, useSecondsSince } from '@/lib/hooks';
import { useSocketEvent } from '@/lib/socket';
import type { PrivateEndReason, PrivateSession, User, UserRef } from '@/types/api';

type Role = 'creator' | 'viewer';

const END_REASONS: Record<PrivateEndReason, (other: string, role: Role) => string> = {
  viewer: (other, role) => (role === 'viewer' ? 'You ended the session.' : `${other} ended the session.`),
  creator: (other, role) => (role === 'creator' ? 'You ended the session.' : `${other} ended the session.`),
  funds: (_other, role) =>
    role === 'viewer' ? 'Your coins ran out.' : "The viewer's coins ran out.",
  connection: () => 'The connection was lost for too long.',
};

function otherParty(session: PrivateSession, role: Role): UserRef {
  return role === 'creator' ? session.viewer : session.creator;
}

function Stat({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="rounded-lg bg-zinc-100 px-3 py-2 dark:bg-zinc-800">
      <p className="text-xs text-zinc-500 dark:text-zinc-400">{label}</p>
      <p className="text-lg font-semibold tabular-nums" data-testid={testId}>
        {children}
      </p>
    </div>
  );
}

function Refused() {
  return (
    <Alert tone="error" title="This private session does not exist, or it is not yours.">
      Only the two people in a private session can open it.{' '}
      <Link to={paths.home.getHref()} className="underline">
        Browse live streams
      </Link>
    </Alert>
  );
}

/** The end screen: how long it lasted and what it cost (or earned), in the server's numbers. */
function Ended({ session, role }: { session: PrivateSession; role: Role }) {
  const other = otherParty(session, role);
  let title: string;
  let detail: string | null = null;
  if (session.state === 'ended') {
    title = 'The private session has ended';
    detail = session.endReason ? END_REASONS[session.endReason](other.displayName, role) : null;
  } else if (session.state === 'declined') {
    title = role === 'viewer' ? `${other.displayName} declined the private session` : 'You declined this request';
  } else if (session.state === 'expired') {
    title = 'The request expired before it was answered';
  } else {
    title = 'The request was cancelled';
  }
  const charged = session.state === 'ended';
  return (
    <Card className="mx-auto max-w-lg text-center">
      <div className="space-y-4" data-testid="private-end">
        <h1 className="text-xl font-bold">{title}</h1>
        {detail && <p className="text-sm text-zinc-600 dark:text-zinc-400">{detail}</p>}
        {charged ? (
          <div className="grid grid-cols-2 gap-3 text-left">
            <Stat label="Duration" testId="private-end-duration">
              {formatSeconds(session.seconds)}
            </Stat>
            <Stat label={role === 'viewer' ? 'Total paid' : 'Total earned'} testId="private-end-coins">
              {formatCoins(session.coins)}
            </Stat>
          </div>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No coins were taken.</p>
        )}
        <div className="flex justify-center gap-2">
          <Link
            to={role === 'creator' ? paths.studio.getHref() : paths.home.getHref()}
            className="rounded-lg bg-brand-600 px-4 py-2 text-sm font-medium text-white"
          >
            {role === 'creator' ? 'Back to the studio' : 'Browse live streams'}
          </Link>
          <Link to={paths.history.getHref()} className="rounded-lg px-4 py-2 text-sm font-medium underline">
            History
          </Link>
        </div>
      </div>
    </Card>
  );
}

/** Not yet answered: the creator answers here too, the viewer may cancel. */
function Requested({ session, role }: { session: PrivateSession; role: Role }) {
  const accept = useAcceptSession();
  const decline = useDeclineSession();
  const cancel = useCancelSession();
  const left = useSecondsLeft(session.expiresAt) ?? 0;
  const error = accept.error ?? decline.error ?? cancel.error;
  return (
    <Card className="mx-auto max-w-lg text-center">
      <div className="space-y-4">
        <h1 className="text-xl font-bold">
          {role === 'viewer'
            ? `Waiting for ${session.creator.displayName} to accept…`
            : `${session.viewer.displayName} asks for a private session`}
        </h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {formatCoins(session.pricePerMinute)} per minute · the request expires in {formatCountdown(left)}
        </p>
        {error && <Alert tone="error">{describePrivateError(error)}</Alert>}
        <div className="flex justify-center gap-2">
          {role === 'creator' ? (
            <>
              <Button isLoading={accept.isPending} onClick={() => accept.mutate(session.id)}>
                Accept
              </Button>
              <Button variant="secondary" isLoading={decline.isPending} onClick={() => decline.mutate(session.id)}>
                Decline
              </Button>
            </>
          ) : (
            <Button variant="secondary" isLoading={cancel.isPending} onClick={() => cancel.mutate(session.id)}>
              Cancel request
            </Button>
          )}
        </div>
      </div>
    </Card>
  );
}

/** The low-balance warning (`private:warning`): when the viewer's coins run out. */
function FundsWarning({ endsAt, role, viewerName }: { endsAt: string; role: Role; viewerName: string }) {
  const left = useSecondsLeft(endsAt) ?? 0;
  return (
    <Alert tone="warning" title={role === 'viewer' ? 'Your coins are running out' : `${viewerName}'s coins are running out`}>
      <span data-testid="private-warning">
        {left > 0 ? `The session ends in ${formatCountdown(left)}` : 'The session is ending'}
        {role === 'viewer' ? ' unless you add coins.' : '.'}
      </span>
      {role === 'viewer' && (
        <>
          {' '}
          <Link to={paths.wallet.getHref()} target="_blank" className="underline">
            Open your wallet
          </Link>
        </>
      )}
    </Alert>
  );
}

/** The viewer added coins after the warning: the next minute was paid past the announced end. */
function toppedUp(session: PrivateSession, endsAt: string): boolean {
  return session.paidThrough !== null && new Date(session.paidThrough).getTime() > new Date(endsAt).getTime();
}

/** Both videos, the controls and the running numbers of an active session. */
function Live({ session, role }: { session: PrivateSession; role: Role }) {
  const other = otherParty(session, role);
  const media = useUserMedia(true);
  const call = usePrivateCall(session.id, true, media.stream);
  const end = useEndSession();
  const balance = useBalance();
  const elapsed = useSecondsSince(session.startedAt) ?? 0;
  const [warning, setWarning] = useState<string | null>(null);
  const [otherFrames, setOtherFrames] = useState<MediaStream | null>(null);
  useSocketEvent('private:warning', ({ sessionId, endsAt }) => {
    if (sessionId === session.id) setWarning(endsAt);
  });

  let overlay: ReactNode = null;
  if (!call.supported) {
    overlay = <p className="text-sm">This browser cannot hold video calls.</p>;
  } else if (call.receiving === 'failed' || call.sending === 'failed') {
    overlay = (
      <div className="flex flex-col items-center gap-2">
        <p className="text-sm">{call.error ?? 'The video connection failed.'}</p>
        <Button size="sm" variant="secondary" onClick={call.retry}>
          Reconnect
        </Button>
      </div>
    );
  } else if (!call.remote || otherFrames !== call.remote) {
    overlay = (
      <div className="flex flex-col items-center gap-2">
        <Spinner label={`Waiting for ${other.displayName}`} />
        <p className="text-sm">Waiting for {other.displayName}'s camera…</p>
      </div>
    );
  }

  const minutesLeft =
    role === 'viewer' && balance !== undefined && session.pricePerMinute > 0
      ? Math.floor(balance / session.pricePerMinute)
      : null;

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_18rem]">
      <div className="min-w-0 space-y-3">
        <div className="relative">
          <VideoPlayer
            stream={call.remote}
            label={`Video of ${other.displayName}`}
            overlay={overlay}
            onFirstFrame={() => setOtherFrames(call.remote)}
          />
          <div className="absolute right-3 bottom-14 w-1/4 min-w-28 overflow-hidden rounded-lg border-2 border-white/70 shadow-lg">
            <VideoPlayer
              stream={media.stream}
              label="Your camera"
              preview
              className="rounded-none"
              overlay={
                media.error ? (
                  <p className="text-xs">{media.error}</p>
                ) : media.cameraOff ? (
                  <p className="text-xs">Camera off</p>
                ) : null
              }
            />
          </div>
        </div>
        {media.error && (
          <QueryError title="Your camera or microphone could not be opened." onRetry={media.retry}>
            {media.error} {other.displayName} cannot see or hear you meanwhile.
          </QueryError>
        )}
        <div className="flex flex-wrap items-center gap-2">
          <Button variant="secondary" aria-pressed={media.muted} onClick={media.toggleMute} disabled={!media.stream}>
            {media.muted ? 'Unmute microphone' : 'Mute microphone'}
          </Button>
          <Button variant="secondary" aria-pressed={media.cameraOff} onClick={media.toggleCamera} disabled={!media.stream}>
            {media.cameraOff ? 'Turn camera on' : 'Turn camera off'}
          </Button>
          <Button
            variant="danger"
            className="ml-auto"
            isLoading={end.isPending}
            onClick={() => end.mutate(session.id)}
          >
            End session
          </Button>
        </div>
        {end.isError && !isApiError(end.error, 'session_not_active') && (
          <Alert tone="error">{errorMessage(end.error)}</Alert>
        )}
      </div>
      <aside aria-label="Session" className="space-y-3">
        <div className="flex items-center gap-2">
          <Badge tone="live">Private</Badge>
          <h1 className="min-w-0 truncate font-semibold">with {other.displayName}</h1>
        </div>
        {warning && !toppedUp(session, warning) && <FundsWarning endsAt={warning} role={role} viewerName={session.viewer.displayName} />}
        <div className="grid grid-cols-2 gap-2 lg:grid-cols-1">
          <Stat label="Time" testId="private-timer">
            {formatClock(elapsed)}
          </Stat>
          <Stat label={role === 'viewer' ? 'Coins spent' : 'Coins earned'} testId="private-coins">
            {formatNumber(session.coins)}
          </Stat>
        </div>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {formatCoins(session.pricePerMinute)} per minute.{' '}
          {session.held > 0 && (
            <span data-testid="private-held">
              {formatCoins(session.held)} held for the current minute; the unused part goes back at the end.
            </span>
          )}
        </p>
        {minutesLeft !== null && balance !== undefined && (
          <p className="text-sm" data-testid="private-balance">
            Your balance: {formatCoins(balance)} (about {formatNumber(minutesLeft)} more{' '}
            {minutesLeft === 1 ? 'minute' : 'minutes'})
          </p>
        )}
      </aside>
    </div>
  );
}

/** The private session page (`/private/:id`): a request, the live call, or its end screen. */
export function PrivateSessionView({ sessionId, user }: { sessionId: string; user: User }) {
  const query = usePrivateSession(sessionId);
  const session = query.data;
  const role: Role | null = session ? (session.creator.id === user.id ? 'creator' : 'viewer') : null;
  useDocumentTitle(
    session && role ? `Private session with ${otherParty(session, role).displayName}` : 'Private session',
  );

  if (query.isPending) {
    return (
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_18rem]" aria-busy="true">
        <Skeleton className="aspect-video w-full rounded-xl" />
        <Skeleton className="h-48 rounded-xl" />
      </div>
    );
  }
  if (query.isError) {
    // Anyone but the two parties gets 404, exactly like an unknown id.
    if (isApiError(query.error) && query.error.status === 404) return <Refused />;
    return (
      <QueryError title="The private session could not be loaded." error={query.error} onRetry={query.refetch} />
    );
  }
  if (!session || !role) return <Refused />;
  if (session.state === 'requested') return <Requested session={session} role={role} />;
  if (session.state === 'active') return <Live key={session.id} session={session} role={role} />;
  return <Ended session={session} role={role} />;
}
