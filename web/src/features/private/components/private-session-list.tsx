import { Link } from 'react-router';

import { Badge } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { paths } from '@/config/paths';
import { usePrivateSessions } from '@/features/private/api/get-sessions';
import { formatDateTime, formatNumber, formatSeconds } from '@/lib/format';
import type { PrivateSession, PrivateSessionState } from '@/types/api';
import { cn } from '@/utils/cn';

const STATE_LABELS: Record<PrivateSessionState, string> = {
  requested: 'Waiting for an answer',
  active: 'Running now',
  ended: 'Ended',
  declined: 'Declined',
  expired: 'Not answered',
  cancelled: 'Cancelled',
};

function SessionRow({ session, meId }: { session: PrivateSession; meId: string }) {
  const creator = session.creator.id === meId;
  const other = creator ? session.viewer : session.creator;
  const open = session.state === 'active' || session.state === 'requested';
  const charged = session.coins > 0;
  const when = session.startedAt ?? session.requestedAt;
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3" data-testid="private-session-row">
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-semibold">
          {open ? (
            <Link to={paths.privateSession.getHref(session.id)} className="hover:underline">
              Private session {creator ? 'for' : 'with'} {other.displayName}
            </Link>
          ) : (
            <>
              Private session {creator ? 'for' : 'with'} {other.displayName}
            </>
          )}
        </p>
        <p className="truncate text-xs text-zinc-500 dark:text-zinc-400">
          <time dateTime={when}>{formatDateTime(when)}</time>
          {' · '}
          {creator ? 'you were the creator' : 'you were the viewer'}
          {session.state === 'ended' || session.state === 'active' ? (
            <>
              {' · '}
              <span data-testid="private-session-duration">{formatSeconds(session.seconds)}</span>
            </>
          ) : null}
        </p>
      </div>
      {session.state !== 'ended' && <Badge tone={open ? 'brand' : 'neutral'}>{STATE_LABELS[session.state]}</Badge>}
      <p
        className={cn(
          'shrink-0 text-sm font-semibold tabular-nums',
          !charged
            ? 'text-zinc-500'
            : creator
              ? 'text-emerald-700 dark:text-emerald-300'
              : 'text-red-700 dark:text-red-300',
        )}
        data-testid="private-session-coins"
      >
        <span className="sr-only">{creator ? 'Earned' : 'Paid'} </span>
        {charged ? (creator ? '+' : '−') : ''}
        {formatNumber(session.coins)}
        <span className="sr-only"> coins</span>
      </p>
    </li>
  );
}

/** Private sessions of the user in either role, newest first, with their duration and coins. */
export function PrivateSessionList({ meId }: { meId: string }) {
  const query = usePrivateSessions();
  return (
    <section aria-labelledby="private-history-heading" className="space-y-3">
      <h2 id="private-history-heading" className="text-lg font-semibold">
        Private sessions
      </h2>
      <InfiniteList
        query={query}
        getKey={(s) => s.id}
        renderItem={(s) => <SessionRow session={s} meId={meId} />}
        label="Private sessions"
        loadingLabel="Loading private sessions"
        errorTitle="Private sessions could not be loaded."
        empty={<EmptyState title="No private sessions yet">One-to-one sessions with creators show up here.</EmptyState>}
      />
    </section>
  );
}
