import { useState } from 'react';
import { Link } from 'react-router';

import { Badge, LiveBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { QueryError } from '@/components/ui/query-error';
import { Skeleton } from '@/components/ui/skeleton';
import { paths } from '@/config/paths';
import { useCreator } from '@/features/creators/api/get-creator';
import { useFollow } from '@/features/creators/api/follow';
import { ScheduleForm } from '@/features/creators/components/schedule-form';
import { errorMessage, isApiError } from '@/lib/api-client';
import { formatNumber, formatPrice } from '@/lib/format';
import type { CreatorProfile, User } from '@/types/api';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

function FollowButton({ profile, user }: { profile: CreatorProfile; user: User | null }) {
  const follow = useFollow(profile.user.username);
  if (!user) {
    return (
      <Link
        to={paths.login.getHref(paths.creator.getHref(profile.user.username))}
        className="rounded-lg bg-brand-600 px-3 py-2 text-sm font-medium text-white hover:bg-brand-700"
      >
        Log in to follow
      </Link>
    );
  }
  if (user.id === profile.user.id) return null;
  return (
    <div className="flex flex-col items-start gap-1">
      <Button
        variant={profile.following ? 'secondary' : 'primary'}
        aria-pressed={profile.following}
        isLoading={follow.isPending}
        onClick={() => follow.mutate(!profile.following)}
      >
        {profile.following ? 'Following' : 'Follow'}
      </Button>
      {follow.isError && (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400">
          {errorMessage(follow.error)}
        </p>
      )}
    </div>
  );
}

/** `/u/:username`: a creator's profile, schedule, follow button, rooms and past sessions. */
export function CreatorPage({ username, user }: { username: string; user: User | null }) {
  const query = useCreator(username);
  const [editing, setEditing] = useState(false);

  if (query.isPending) {
    return (
      <div className="space-y-4" aria-busy="true">
        <span className="sr-only">Loading the creator's page</span>
        <Skeleton className="h-10 w-64" />
        <Skeleton className="h-24 w-full" />
      </div>
    );
  }
  if (query.isError) {
    if (isApiError(query.error, 'user_not_found')) {
      return <EmptyState title="No such creator">Nobody is called “{username}” here.</EmptyState>;
    }
    return <QueryError title="This page could not be loaded." error={query.error} onRetry={() => void query.refetch()} />;
  }
  const profile = query.data;
  const own = user?.id === profile.user.id;
  const live = profile.rooms.filter((r) => r.status === 'live');

  return (
    <div className="space-y-8">
      <header className="flex flex-wrap items-center gap-4">
        <span
          aria-hidden="true"
          className="flex size-16 items-center justify-center rounded-full bg-brand-600 text-2xl font-bold text-white uppercase"
        >
          {(profile.user.displayName || profile.user.username).slice(0, 1)}
        </span>
        <div className="min-w-0 flex-1">
          <h1 className="truncate text-2xl font-bold tracking-tight">{profile.user.displayName}</h1>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            @{profile.user.username} ·{' '}
            <span data-testid="follower-count">{formatNumber(profile.followerCount)}</span>{' '}
            {profile.followerCount === 1 ? 'follower' : 'followers'}
          </p>
        </div>
        <FollowButton profile={profile} user={user ?? null} />
      </header>

      <section aria-labelledby="schedule-heading" className="space-y-2">
        <div className="flex items-center gap-2">
          <h2 id="schedule-heading" className="text-lg font-semibold">
            Schedule
          </h2>
          {own && !editing && (
            <Button size="sm" variant="ghost" onClick={() => setEditing(true)}>
              Edit
            </Button>
          )}
        </div>
        {editing ? (
          <ScheduleForm username={profile.user.username} schedule={profile.schedule} onDone={() => setEditing(false)} />
        ) : profile.schedule ? (
          <p className="whitespace-pre-line text-zinc-700 dark:text-zinc-300" data-testid="schedule">
            {profile.schedule}
          </p>
        ) : (
          <p className="text-sm text-zinc-500 dark:text-zinc-400">
            {own ? 'Tell viewers when you usually stream.' : 'No schedule yet.'}
          </p>
        )}
      </section>

      <section aria-labelledby="rooms-heading" className="space-y-2">
        <h2 id="rooms-heading" className="text-lg font-semibold">
          Rooms {live.length > 0 && <LiveBadge />}
        </h2>
        {profile.rooms.length === 0 ? (
          <p className="text-sm text-zinc-500 dark:text-zinc-400">No rooms yet.</p>
        ) : (
          <ul className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {profile.rooms.map((room) => (
              <li key={room.id} className="flex flex-wrap items-center gap-2 px-3 py-2">
                <Link to={paths.room.getHref(room.id)} className="font-medium hover:underline">
                  {room.title}
                </Link>
                {room.status === 'live' ? (
                  <Badge tone="live">{formatNumber(room.viewerCount)} watching</Badge>
                ) : (
                  <Badge tone="neutral">Offline</Badge>
                )}
                <Badge tone={room.price === 0 ? 'brand' : 'neutral'}>{formatPrice(room.price)}</Badge>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="past-heading" className="space-y-2">
        <h2 id="past-heading" className="text-lg font-semibold">
          Past sessions
        </h2>
        {profile.pastSessions.length === 0 ? (
          <p className="text-sm text-zinc-500 dark:text-zinc-400">No past sessions yet.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {profile.pastSessions.map((s) => (
              <li key={s.id}>
                <span className="font-medium">{s.roomTitle || 'A room'}</span>{' '}
                <span className="text-zinc-600 dark:text-zinc-400">
                  <time dateTime={s.startedAt}>{formatWhen(s.startedAt)}</time>
                  {s.endedAt && (
                    <>
                      {' '}
                      – <time dateTime={s.endedAt}>{formatWhen(s.endedAt)}</time>
                    </>
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
