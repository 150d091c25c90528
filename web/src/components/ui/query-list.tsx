import { Fragment, type ReactNode } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage } from '@/lib/api-client';

/** The part of a TanStack (infinite) query a list shows. */
export type ListQuery = {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
  hasNextPage?: boolean;
  isFetchingNextPage?: boolean;
  isFetchNextPageError?: boolean;
  fetchNextPage?: () => unknown;
};

type QueryListProps<T> = {
  query: ListQuery;
  items: T[];
  getKey: (item: T) => string;
  /** One `<li>`. */
  renderItem: (item: T) => ReactNode;
  /** What is loading, for screen readers ("Loading purchases"). */
  loadingLabel: string;
  /** The title of the error ("Purchases could not be loaded."). */
  errorTitle: string;
  /** Shown when the list is empty (usually an `EmptyState`). */
  empty: ReactNode;
  /** The list's accessible name. */
  label?: string;
  skeletonClassName?: string;
};

/**
 * A list from the API in its four states: loading (skeletons), failed (the
 * reason and "Try again"), empty, and the items with "Load more" while the
 * server has more pages.
 */
export function QueryList<T>({
  query,
  items,
  getKey,
  renderItem,
  loadingLabel,
  errorTitle,
  empty,
  label,
  skeletonClassName = 'h-14 w-full',
}: QueryListProps<T>) {
  if (query.isPending) {
    return (
      <div className="space-y-2" aria-busy="true" aria-label={loadingLabel}>
        {Array.from({ length: 3 }, (_, i) => (
          <Skeleton key={i} className={skeletonClassName} />
        ))}
      </div>
    );
  }
  if (query.isError && items.length === 0) {
    return (
      <Alert
        tone="error"
        title={errorTitle}
        action={
          <Button size="sm" variant="secondary" onClick={() => void query.refetch()}>
            Try again
          </Button>
        }
      >
        {errorMessage(query.error)}
      </Alert>
    );
  }
  if (items.length === 0) return <>{empty}</>;
  return (
    <>
      <ul
        aria-label={label}
        className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900"
      >
        {items.map((item) => (
          <Fragment key={getKey(item)}>{renderItem(item)}</Fragment>
        ))}
      </ul>
      {query.hasNextPage && query.fetchNextPage && (
        <div className="flex justify-center">
          <Button variant="secondary" isLoading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage?.()}>
            Load more
          </Button>
        </div>
      )}
      {query.isFetchNextPageError && <Alert tone="error">{errorMessage(query.error)}</Alert>}
    </>
  );
}
