import { useState } from 'react';
import { Link, useNavigate } from 'react-router';

import { Badge, LiveBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { Skeleton } from '@/components/ui/skeleton';
import { QueryError } from '@/components/ui/query-error';
import { paths } from '@/config/paths';
import { useCreateRoom } from '@/features/studio/api/create-room';
import { useMyRooms } from '@/features/studio/api/get-my-rooms';
import { RoomForm } from '@/features/studio/components/room-form';
import { formatPrice, formatViewers } from '@/lib/format';
import { roomAwayUntil } from '@/lib/room-cache';
import type { User } from '@/types/api';

/** The creator's rooms and a form to create one. */
export function StudioHome({ user }: { user: User }) {
  const navigate = useNavigate();
  const rooms = useMyRooms(user.id);
  const [creating, setCreating] = useState(false);
  const create = useCreateRoom({ onSuccess: (room) => void navigate(paths.studioRoom.getHref(room.id)) });
  const items = rooms.data?.items ?? [];

  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-bold tracking-tight">Creator studio</h1>
        {!creating && <Button onClick={() => setCreating(true)}>New room</Button>}
      </div>
      {creating && (
        <Card title="New room">
          <RoomForm
            submitLabel="Create room"
            isPending={create.isPending}
            error={create.error}
            onSubmit={(input) => create.mutate(input)}
            onCancel={() => {
              setCreating(false);
              create.reset();
            }}
          />
        </Card>
      )}
      <section aria-labelledby="my-rooms" className="space-y-3">
        <h2 id="my-rooms" className="text-lg font-semibold">
          Your rooms
        </h2>
        {rooms.isPending ? (
          <div className="space-y-2" aria-busy="true" aria-label="Loading your rooms">
            <Skeleton className="h-16" />
            <Skeleton className="h-16" />
          </div>
        ) : rooms.isError ? (
          <QueryError title="Your rooms could not be loaded." error={rooms.error} onRetry={rooms.refetch} />
        ) : items.length === 0 ? (
          <EmptyState title="No rooms yet" action={!creating && <Button onClick={() => setCreating(true)}>Create your first room</Button>}>
            A room is where you stream. Set a price, or make it free.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900">
            {items.map((room) => (
              <li key={room.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
                <div className="min-w-0 flex-1">
                  <Link to={paths.studioRoom.getHref(room.id)} className="block truncate font-semibold hover:underline">
                    {room.title}
                  </Link>
                  <p className="text-xs text-zinc-500 capitalize dark:text-zinc-400">{room.category || 'No category'}</p>
                </div>
                {room.status === 'live' ? (
                  <>
                    <LiveBadge />
                    {roomAwayUntil(room) !== null && <Badge tone="warning">Reconnecting</Badge>}
                    <Badge>{formatViewers(room.viewerCount)}</Badge>
                  </>
                ) : (
                  <Badge>Offline</Badge>
                )}
                <Badge tone="brand">{formatPrice(room.price)}</Badge>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
