import { useState } from 'react';
import { useSearchParams } from 'react-router';

import { ROOMS_REFETCH_MS } from '@/config/constants';
import { homeRoomLists } from '@/features/rooms/api/get-rooms';
import { NoRooms, RoomsGrid } from '@/features/rooms/components/rooms-grid';
import { RoomsFilters } from '@/features/rooms/components/rooms-filters';
import { useUser } from '@/lib/auth';
import { useDebouncedValue } from '@/lib/hooks';
import { useLobby } from '@/lib/room-watch';

/**
 * The first row of live cards at the widest grid (4 columns): above the fold,
 * so their thumbnails load at once and first; the rest wait until scrolled to.
 */
const EAGER_CARDS = 4;

/**
 * The home page: live rooms, then offline rooms; search and category in the
 * URL. Signed in, the lobby's events (away, back, ended) update the cards at
 * once; the polling stays, for rooms that start and for anonymous visitors.
 */
export function RoomsBrowser() {
  const { data: user } = useUser();
  useLobby(Boolean(user));
  const [searchParams, setSearchParams] = useSearchParams();
  const category = searchParams.get('category') ?? '';
  const [q, setQ] = useState(() => searchParams.get('q') ?? '');
  const debouncedQ = useDebouncedValue(q.trim(), 300);

  const update = (next: { q?: string; category?: string }) => {
    const params = new URLSearchParams(searchParams);
    for (const [key, value] of Object.entries(next)) {
      if (value) params.set(key, value);
      else params.delete(key);
    }
    setSearchParams(params, { replace: true });
  };

  const lists = homeRoomLists({ q: debouncedQ, category });
  const filtered = Boolean(debouncedQ || category);

  return (
    <div className="space-y-8">
      <div className="space-y-4">
        <h1 className="text-2xl font-bold tracking-tight">Live now</h1>
        <RoomsFilters
          q={q}
          category={category}
          onQChange={(value) => {
            setQ(value);
            update({ q: value.trim() });
          }}
          onCategoryChange={(value) => update({ category: value })}
        />
      </div>
      <RoomsGrid
        params={lists.live}
        eagerCards={EAGER_CARDS}
        refetchInterval={ROOMS_REFETCH_MS}
        heading="Live streams"
        headingId="live-heading"
        empty={<NoRooms filtered={filtered} live />}
      />
      <RoomsGrid
        params={lists.offline}
        refetchInterval={ROOMS_REFETCH_MS * 3}
        heading="Offline rooms"
        headingId="offline-heading"
        skeletons={4}
        empty={<NoRooms filtered={filtered} live={false} />}
      />
    </div>
  );
}
