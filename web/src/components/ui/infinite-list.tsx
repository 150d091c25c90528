import { Fragment, type ReactNode } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { QueryError } from '@/components/ui/query-error';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage } from '@/lib/api-client';
import { cn } from '@/utils/cn';

/** The part of a TanStack infinite query over cursor pages (`{items, nextCursor}`) a list shows. */
export type InfiniteListQuery<T> = {
  data?: { pages: ReadonlyArray<{ items: readonly T[] }> } | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  fetchNextPage: () => unknown;
};

type InfiniteListProps<T> = {
  query: InfiniteListQuery<T>;
  getKey: (item: T) => string;
  /** One `<li>`; `index` counts from the first item of the first page. */
  renderItem: (item: T, index: number) => ReactNode;
  /** What is loading, for screen readers ("Loading purchases"). */
  loadingLabel: string;
  /** The title of the error ("Purchases could not be loaded."). */
  errorTitle: string;
  /** Shown when the list is empty (usually an `EmptyState`). */
  empty: ReactNode;
  /** The list's accessible name, or the id of what names it. */
  label?: string;
  labelledBy?: string;
  /** The list's own layout (a grid, say); the default is rows in one bordered box. */
  listClassName?: string;
  /** One placeholder while loading (the default is a row-sized skeleton). */
  skeleton?: ReactNode;
  skeletonClassName?: string;
  skeletons?: number;
};

const rows =
  'divide-y divide-zinc-200 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900';

/**
 * The items of every page loaded so far, in order, each once: the pages of a
 * list that re-sorts while it is read (rooms by viewers) can overlap.
 */
function pageItems<T>(query: Pick<InfiniteListQuery<T>, 'data'>, getKey: (item: T) => string): T[] {
  const seen = new Set<string>();
  return (query.data?.pages.flatMap((p) => p.items) ?? []).filter((item) => {
    const key = getKey(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A cursor-paged list from the API in its states: loading (skeletons), failed
 * (the reason and "Try again"), empty, and the items with "Load more" while
 * the server has more pages (a failed next page says why under the items).
 */
export function InfiniteList<T>({
  query,
  getKey,
  renderItem,
  loadingLabel,
  errorTitle,
  empty,
  label,
  labelledBy,
  listClassName,
  skeleton,
  skeletonClassName,
  skeletons = 3,
}: InfiniteListProps<T>) {
  const items = pageItems(query, getKey);
  if (query.isPending) {
    return (
      <div role="status" className={listClassName ?? 'space-y-2'} aria-busy="true" aria-label={loadingLabel}>
        {Array.from({ length: skeletons }, (_, i) => (
          <Fragment key={i}>{skeleton ?? <Skeleton className={cn('h-14 w-full', skeletonClassName)} />}</Fragment>
        ))}
      </div>
    );
  }
  if (query.isError && items.length === 0) {
    return <QueryError title={errorTitle} error={query.error} onRetry={query.refetch} />;
  }
  if (items.length === 0) return <>{empty}</>;
  return (
    <>
      <ul aria-label={label} aria-labelledby={labelledBy} className={listClassName ?? rows}>
        {items.map((item, i) => (
          <Fragment key={getKey(item)}>{renderItem(item, i)}</Fragment>
        ))}
      </ul>
      {query.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="secondary" isLoading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
      {query.isFetchNextPageError && <Alert tone="error">{errorMessage(query.error)}</Alert>}
    </>
  );
}
