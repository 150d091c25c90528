import { Link } from 'react-router';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { Skeleton } from '@/components/ui/skeleton';
import { paths } from '@/config/paths';
import { useHistory } from '@/features/history/api/get-history';
import { errorMessage } from '@/lib/api-client';
import { formatDateTime, formatDuration } from '@/lib/format';

export function HistoryList() {
  const query = useHistory();
  const items = query.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Watch history</h1>
      {query.isPending ? (
        <div className="space-y-2" aria-busy="true" aria-label="Loading history">
          {Array.from({ length: 4 }, (_, i) => (
            <Skeleton key={i} className="h-16 w-full" />
          ))}
        </div>
      ) : query.isError && items.length === 0 ? (
        <Alert
          tone="error"
          title="Your history could not be loaded."
          action={
            <Button size="sm" variant="secondary" onClick={() => void query.refetch()}>
              Try again
            </Button>
          }
        >
          {errorMessage(query.error)}
        </Alert>
      ) : items.length === 0 ? (
        <EmptyState
          title="You have not watched anything yet"
          action={
            <Link to={paths.home.getHref()} className="rounded-lg bg-brand-600 px-4 py-2 text-sm font-medium text-white">
              Browse live streams
            </Link>
          }
        />
      ) : (
        <>
          <ul className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900">
            {items.map((entry) => (
              <li key={entry.id} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3">
                <div className="min-w-0 flex-1">
                  <Link to={paths.room.getHref(entry.roomId)} className="block truncate text-sm font-semibold hover:underline">
                    {entry.roomTitle}
                  </Link>
                  <p className="truncate text-xs text-zinc-500 dark:text-zinc-400">{entry.creator.displayName}</p>
                </div>
                <p className="text-xs text-zinc-500 tabular-nums dark:text-zinc-400">
                  <time dateTime={entry.joinedAt}>{formatDateTime(entry.joinedAt)}</time>
                  {' · '}
                  {entry.leftAt ? formatDuration(entry.joinedAt, entry.leftAt) : 'watching now'}
                </p>
              </li>
            ))}
          </ul>
          {query.hasNextPage && (
            <div className="flex justify-center">
              <Button variant="secondary" isLoading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
