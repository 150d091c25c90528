import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { useAcceptSession } from '@/features/private/api/accept-session';
import { useDeclineSession } from '@/features/private/api/decline-session';
import { describePrivateError } from '@/features/private/api/describe-error';
import { dropRequest, useIncomingRequests, useLiveSession, usePrivateEvents } from '@/features/private/hooks/use-private-events';
import { formatCoins, formatCountdown } from '@/lib/format';
import { useSecondsLeft } from '@/lib/hooks';
import type { PrivateSession, User } from '@/types/api';

/** One viewer's request, until answered or expired (the countdown is the server's `expiresAt`). */
function RequestToast({ session, onAccepted }: { session: PrivateSession; onAccepted: (id: string) => void }) {
  const queryClient = useQueryClient();
  const accept = useAcceptSession({
    onSuccess: (accepted) => {
      dropRequest(queryClient, accepted.id);
      onAccepted(accepted.id);
    },
  });
  const decline = useDeclineSession();
  const left = useSecondsLeft(session.expiresAt);
  const expired = left === 0;

  // An expired request goes away by itself, a moment after it says so.
  useEffect(() => {
    if (!expired) return;
    const timer = setTimeout(() => dropRequest(queryClient, session.id), 4_000);
    return () => clearTimeout(timer);
  }, [expired, queryClient, session.id]);

  const error = accept.error ?? decline.error;
  return (
    <div
      role="alertdialog"
      aria-labelledby={`private-request-${session.id}`}
      data-testid="private-request-toast"
      className="space-y-2 rounded-lg border border-brand-600/50 bg-white px-4 py-3 text-sm shadow-lg dark:bg-zinc-900"
    >
      <p id={`private-request-${session.id}`} className="font-semibold">
        {session.viewer.displayName} asks for a private session
      </p>
      <p className="text-zinc-600 dark:text-zinc-400">
        {formatCoins(session.pricePerMinute)} per minute ·{' '}
        <span data-testid="private-request-expiry">
          {expired ? 'The request expired.' : `expires in ${formatCountdown(left ?? 0)}`}
        </span>
      </p>
      {error && <p className="text-red-700 dark:text-red-300">{describePrivateError(error)}</p>}
      {expired ? (
        <Button size="sm" variant="ghost" onClick={() => dropRequest(queryClient, session.id)}>
          Dismiss
        </Button>
      ) : (
        <div className="flex gap-2">
          <Button
            size="sm"
            isLoading={accept.isPending}
            disabled={decline.isPending}
            onClick={() => accept.mutate(session.id)}
          >
            Accept
          </Button>
          <Button
            size="sm"
            variant="secondary"
            isLoading={decline.isPending}
            disabled={accept.isPending}
            onClick={() => decline.mutate(session.id, { onSuccess: () => dropRequest(queryClient, session.id) })}
          >
            Decline
          </Button>
          {/* A refusal (expired, closed meanwhile) leaves nothing to answer. */}
          {error && (
            <Button size="sm" variant="ghost" onClick={() => dropRequest(queryClient, session.id)}>
              Dismiss
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

/** A running session of the user's, seen from another page: the way back to it. */
function LiveSessionBanner({ session, meId }: { session: PrivateSession; meId: string }) {
  const other = session.creator.id === meId ? session.viewer : session.creator;
  return (
    <Alert
      tone="warning"
      className="shadow-lg"
      title={`Your private session with ${other.displayName} is running.`}
      action={
        <Link
          to={paths.privateSession.getHref(session.id)}
          className="rounded-lg bg-brand-600 px-3 py-1.5 text-sm font-medium text-white"
        >
          Return to it
        </Link>
      }
    >
      It ends by itself when you stay away from its page for long.
    </Alert>
  );
}

/**
 * Everything of private sessions that belongs to no one page, mounted by
 * the root layout for a signed-in user: the socket pushes into the cache,
 * the creator's incoming-request toasts, and the way back to a running
 * session.
 */
export function PrivateSessionHost({ user }: { user: User }) {
  usePrivateEvents(user.id);
  // The host outlives the toast: the accepted session's page opens from here.
  const navigate = useNavigate();
  const openSession = (id: string) => void navigate(paths.privateSession.getHref(id));
  const { pathname } = useLocation();
  // The session's own page answers a request itself.
  const requests = useIncomingRequests().filter((s) => pathname !== paths.privateSession.getHref(s.id));
  const live = useLiveSession();
  const showLive = live !== null && pathname !== paths.privateSession.getHref(live.id);
  if (requests.length === 0 && !showLive) return null;
  return (
    <section
      aria-label="Private sessions"
      className="fixed top-16 right-3 z-40 flex w-[min(24rem,calc(100vw-1.5rem))] flex-col gap-2"
    >
      {showLive && <LiveSessionBanner session={live} meId={user.id} />}
      {requests.map((session) => (
        <RequestToast key={session.id} session={session} onAccepted={openSession} />
      ))}
    </section>
  );
}
