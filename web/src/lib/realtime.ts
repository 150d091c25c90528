/**
 * Socket events that change server state go into the query cache here, in
 * one place: the balance, room presence and ends, and re-joining rooms after
 * a reconnect. Mounted once by the app provider.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';

import { subscribeAccessToken } from '@/lib/api-client';
import { endSession } from '@/lib/auth';
import { setBalanceInCache } from '@/lib/balance';
import { queryKeys } from '@/lib/query-keys';
import { updateRoomChannel } from '@/lib/room-channel';
import { startSocketSession, useSocketConnect, useSocketEvent, type PresenceEvent } from '@/lib/socket';
import type { Room, User } from '@/types/api';

export function useRealtimeCacheSync(): void {
  const queryClient = useQueryClient();
  const connectedBefore = useRef(false);

  useEffect(() => startSocketSession(), []);

  // A refresh that failed cleared the token: the session is over.
  useEffect(
    () =>
      subscribeAccessToken((token) => {
        if (!token && queryClient.getQueryData(queryKeys.me)) endSession(queryClient);
      }),
    [queryClient],
  );

  useSocketConnect(() => {
    // The first connect needs nothing; after a reconnect the server has
    // forgotten our rooms, and events may have been missed meanwhile.
    if (connectedBefore.current) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.roomChannels });
      void queryClient.invalidateQueries({ queryKey: queryKeys.balance });
    }
    connectedBefore.current = true;
  });

  useSocketEvent('balance:update', ({ coins }) => {
    setBalanceInCache(queryClient, coins);
    // A balance change is a new ledger entry: the wallet and the studio's earnings.
    void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
  });

  const onPresence = ({ roomId, viewerCount }: PresenceEvent) => {
    updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, viewerCount }));
    queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) =>
      room ? { ...room, viewerCount } : room,
    );
  };
  useSocketEvent('room:viewer_joined', onPresence);
  useSocketEvent('room:viewer_left', onPresence);

  useSocketEvent('chat:ban', ({ roomId, user }) => {
    if (user.id === queryClient.getQueryData<User | null>(queryKeys.me)?.id) {
      updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, banned: true }));
    }
  });

  useSocketEvent('room:ended', ({ roomId }) => {
    updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, ended: true, viewerCount: 0 }));
    queryClient.setQueryData<Room>(queryKeys.rooms.detail(roomId), (room) =>
      room ? { ...room, status: 'offline', liveSessionId: null, startedAt: null, viewerCount: 0 } : room,
    );
    void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
  });
}
