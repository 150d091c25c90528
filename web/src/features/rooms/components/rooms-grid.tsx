import type { ReactNode } from 'react';

import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { QueryError } from '@/components/ui/query-error';
import { useRooms } from '@/features/rooms/api/get-rooms';
import { RoomCard, RoomCardSkeleton } from '@/features/rooms/components/room-card';
import type { RoomListParams } from '@/lib/query-keys';

type RoomsGridProps = {
  params: RoomListParams;
  refetchInterval?: number;
  heading: ReactNode;
  headingId: string;
  empty: ReactNode;
  skeletons?: number;
  /** How many of the first cards are above the fold: their thumbnails load eagerly, at high priority. */
  eagerCards?: number;
};

const grid = 'grid grid-cols-1 gap-4 min-[480px]:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4';

/** One section of rooms: skeletons, an error with a retry, an empty state, or the cards. */
export function RoomsGrid({
  params,
  refetchInterval,
  heading,
  headingId,
  empty,
  skeletons = 8,
  eagerCards = 0,
}: RoomsGridProps) {
  const query = useRooms(params, { refetchInterval });
  const rooms = query.data?.pages.flatMap((page) => page.items) ?? [];
  // Cursor pages of a list that re-sorts by viewers can overlap: show each room once.
  const unique = rooms.filter((room, i) => rooms.findIndex((r) => r.id === room.id) === i);

  let body: ReactNode;
  if (query.isPending) {
    body = (
      <div className={grid} aria-busy="true" aria-label="Loading streams">
        {Array.from({ length: skeletons }, (_, i) => (
          <RoomCardSkeleton key={i} />
        ))}
      </div>
    );
  } else if (query.isError && unique.length === 0) {
    body = (
      <QueryError title="Streams could not be loaded." error={query.error} onRetry={query.refetch} />
    );
  } else if (unique.length === 0) {
    body = empty;
  } else {
    body = (
      <>
        <ul className={grid} aria-labelledby={headingId}>
          {unique.map((room, i) => (
            <li key={room.id}>
              <RoomCard room={room} aboveFold={i < eagerCards} />
            </li>
          ))}
        </ul>
        {query.hasNextPage && (
          <div className="mt-4 flex justify-center">
            <Button variant="secondary" isLoading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
              Load more
            </Button>
          </div>
        )}
      </>
    );
  }

  return (
    <section aria-labelledby={headingId} className="space-y-3">
      <h2 id={headingId} className="text-lg font-semibold">
        {heading}
      </h2>
      {body}
    </section>
  );
}

export function NoRooms({ filtered, live }: { filtered: boolean; live: boolean }) {
  if (filtered) {
    return <EmptyState title="Nothing matches your search">Try another word or category.</EmptyState>;
  }
  return live ? (
    <EmptyState title="No one is live right now">New streams appear here as soon as they start.</EmptyState>
  ) : (
    <EmptyState title="No offline rooms">Rooms show up here when their creators are away.</EmptyState>
  );
}
