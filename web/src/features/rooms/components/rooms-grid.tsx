import type { ReactNode } from 'react';

import { EmptyState } from '@/components/ui/empty-state';
import { InfiniteList } from '@/components/ui/infinite-list';
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
  return (
    <section aria-labelledby={headingId} className="space-y-3">
      <h2 id={headingId} className="text-lg font-semibold">
        {heading}
      </h2>
      <InfiniteList
        query={query}
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
    return <EmptyState title="Nothing matches your search">Try another word or category.</EmptyState>;
  }
  return live ? (
    <EmptyState title="No one is live right now">New streams appear here as soon as they start.</EmptyState>
  ) : (
    <EmptyState title="No offline rooms">Rooms show up here when their creators are away.</EmptyState>
  );
}
