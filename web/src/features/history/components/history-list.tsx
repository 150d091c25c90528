import { Link } from 'react-router';

import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { paths } from '@/config/paths';
import { useHistory } from '@/features/history/api/get-history';
import { formatDateTime, formatDuration } from '@/lib/format';
import type { HistoryEntry } from '@/types/api';

function HistoryRow({ entry }: { entry: HistoryEntry }) {
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3">
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
  );
}

export function HistoryList() {
  const query = useHistory();
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Watch history</h1>
      <InfiniteList
        query={query}
        getKey={(entry) => entry.id}
        renderItem={(entry) => <HistoryRow entry={entry} />}
        label="Watch history"
        loadingLabel="Loading history"
        errorTitle="Your history could not be loaded."
        skeletons={4}
        skeletonClassName="h-16"
        empty={
          <EmptyState
            title="You have not watched anything yet"
            action={
              <Link to={paths.home.getHref()} className="rounded-lg bg-brand-600 px-4 py-2 text-sm font-medium text-white">
                Browse live streams
              </Link>
            }
          />
        }
      />
    </div>
  );
}
