import type { ReactNode } from 'react';

import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
import { useRooms } from '@/features/rooms/api/get-rooms';
import { RoomCard, RoomCardSkeleton } from '@/features/rooms/components/room-card';
import { sortRooms, type RoomSort } from '@/features/rooms/utils/sort-rooms';
import type { RoomListParams } from '@/lib/query-keys';

type RoomsGridProps = {
  params: RoomListParams;
  refetchInterval?: number;
  /** The section's own heading; none: `headingId` names a heading outside (the page's). */
  heading?: ReactNode;
  headingId: string;
  /** Re-sorts the loaded cards as counts change (the server sorts each page by viewers). */
  sort?: RoomSort;
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
  sort,
}: RoomsGridProps) {
  const query = useRooms(params, { refetchInterval });
  const shown = sort && query.data ? { ...query, data: { pages: [{ items: sortRooms(query.data.pages.flatMap((p) => p.items), sort) }] } } : query;
  return (
    <section aria-labelledby={headingId} className="space-y-3">
      {heading !== undefined && (
        <h2 id={headingId} className="text-lg font-semibold">
          {heading}
        </h2>
      )}
      <InfiniteList
        query={shown}
        getKey={(room) => room.id}
        renderItem={(room, i) => (
          <li>
            <RoomCard room={room} aboveFold={i < eagerCards} />
          </li>
        )}
        labelledBy={headingId}
        listClassName={grid}
        loadingLabel="Loading streams"
        errorTitle="Streams could not be loaded."
        empty={empty}
        skeleton={<RoomCardSkeleton />}
        skeletons={skeletons}
      />
    </section>
  );
}

export function NoRooms({ filtered, live }: { filtered: boolean; live: boolean }) {
  if (filtered) {
    return <EmptyState title="Nothing matches your filters">Try another word, category or price.</EmptyState>;
  }
  return live ? (
    <EmptyState title="No one is live right now">New streams appear here as soon as they start.</EmptyState>
  ) : (
    <EmptyState title="No offline rooms">Rooms show up here when their creators are away.</EmptyState>
  );
}
