/**
 * Socket events that change server state go into the query cache here, in
 * one place: the balance and refunds, room presence, away/back and ends, and
 * re-joining (re-watching) rooms after a reconnect. Mounted once by the app
 * provider.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';

import { paths } from '@/config/paths';
import { subscribeAccessToken } from '@/lib/api-client';
import { endSession } from '@/lib/auth';
import { setBalanceInCache } from '@/lib/balance';
import { formatCoins } from '@/lib/format';
import { pushNotice } from '@/lib/notices';
import { queryKeys } from '@/lib/query-keys';
import { addLiveRoom, mergeRoomIntoCache, setRoomAway, setRoomEnded, setRoomPrivate, updateRoomInCache } from '@/lib/room-cache';
import { updateRoomChannel } from '@/lib/room-channel';
import { startSocketSession, useSocketConnect, useSocketEvent, type PresenceEvent } from '@/lib/socket';
import type { NotificationPage, Purchase, User } from '@/types/api';

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
    // The balance was read before this connection could hear
    // `balance:update` (the socket client loads lazily, after sign-in):
    // a change in between would be missed, so read it again on every
    // connect, the first one too.
    void queryClient.invalidateQueries({ queryKey: queryKeys.balance });
    // After a reconnect the server has forgotten our rooms, and events may
    // have been missed meanwhile.
    if (connectedBefore.current) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.roomChannels });
      void queryClient.invalidateQueries({ queryKey: queryKeys.roomWatches });
      void queryClient.invalidateQueries({ queryKey: queryKeys.lobby });
      // A room may have gone away, come back or ended meanwhile.
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.notifications });
    }
    connectedBefore.current = true;
  });

  useSocketEvent('balance:update', ({ coins }) => {
    setBalanceInCache(queryClient, coins);
    // A balance change is a new ledger entry: the wallet and the studio's earnings.
    void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
    void queryClient.invalidateQueries({ queryKey: queryKeys.earningsAll });
  });

  // A purchase paid (the provider's webhook), expired or refunded.
  useSocketEvent('purchase:update', ({ purchase }) => {
    queryClient.setQueryData<Purchase>(queryKeys.purchases.detail(purchase.id), purchase);
    void queryClient.invalidateQueries({ queryKey: queryKeys.purchases.list() });
  });

  // A payout request approved or rejected by an operator.
  useSocketEvent('payout:update', () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.payouts });
    void queryClient.invalidateQueries({ queryKey: queryKeys.earningsAll });
  });

  const onPresence = ({ roomId, viewerCount }: Pick<PresenceEvent, 'roomId' | 'viewerCount'>) => {
    updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, viewerCount }));
    // The room page and every card of it (the lobby hears `room:count` too).
    updateRoomInCache(queryClient, roomId, (room) => ({ ...room, viewerCount }));
  };
  useSocketEvent('room:viewer_joined', onPresence);
  useSocketEvent('room:viewer_left', onPresence);
  // Coalesced (at most 4 a second): the count in big rooms, where arrivals
  // and departures go to the creator only.
  useSocketEvent('room:count', onPresence);

  useSocketEvent('chat:ban', ({ roomId, user }) => {
    if (user.id === queryClient.getQueryData<User | null>(queryKeys.me)?.id) {
      updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, banned: true }));
    }
  });

  // To members, watchers (`room:watch`) and the lobby alike.
  useSocketEvent('room:ended', ({ roomId }) => {
    updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, ended: true, viewerCount: 0 }));
    setRoomEnded(queryClient, roomId);
    void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
  });
  // The lobby: a session started (the card goes into the live lists that
  // match it), or the creator edited the room.
  useSocketEvent('room:live', ({ room }) => {
    addLiveRoom(queryClient, room);
    updateRoomInCache(queryClient, room.id, (cached) => ({ ...cached, ...room, access: cached.access }));
  });
  useSocketEvent('room:updated', ({ room }) => mergeRoomIntoCache(queryClient, room));
  useSocketEvent('room:moderators', ({ roomId, moderatorIds }) => {
    updateRoomInCache(queryClient, roomId, (room) => ({ ...room, moderatorIds }));
    updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, moderatorIds }));
  });

  // A followed creator went live: the bell's list and count, and a toast.
  useSocketEvent('notification:new', ({ notification, unreadCount }) => {
    queryClient.setQueryData<NotificationPage>(queryKeys.notifications, (page) =>
      page
        ? {
            ...page,
            unreadCount,
            items: [notification, ...page.items.filter((n) => n.id !== notification.id)],
          }
        : page,
    );
    pushNotice(queryClient, {
      id: `notification-${notification.id}`,
      tone: 'info',
      text: `${notification.creator.displayName} is live: ${notification.roomTitle}`,
      link: { to: paths.room.getHref(notification.roomId), label: 'Watch now' },
    });
  });
  useSocketEvent('notification:read', ({ unreadCount }) => {
    queryClient.setQueryData<NotificationPage>(queryKeys.notifications, (page) =>
      page ? { ...page, unreadCount, items: unreadCount === 0 ? page.items.map((n) => ({ ...n, read: true })) : page.items } : page,
    );
    if (unreadCount > 0) void queryClient.invalidateQueries({ queryKey: queryKeys.notifications });
  });

  useSocketEvent('room:away', ({ roomId, awayUntil }) => setRoomAway(queryClient, roomId, awayUntil));
  useSocketEvent('room:back', ({ roomId }) => setRoomAway(queryClient, roomId, null));
  // The creator's private session pauses (and later resumes) the room.
  useSocketEvent('room:private', ({ roomId, active }) => setRoomPrivate(queryClient, roomId, active));

  // The ledger entry and the balance come too (`balance:update`); this says why.
  useSocketEvent('payment:refunded', ({ amount, transactionId, roomTitle }) => {
    pushNotice(queryClient, {
      id: transactionId,
      tone: 'success',
      text: `Refunded ${formatCoins(amount)} for ${roomTitle}: the stream ended before you saw it.`,
      link: { to: paths.wallet.getHref(), label: 'Open your wallet' },
    });
    void queryClient.invalidateQueries({ queryKey: queryKeys.transactions.all });
  });
}
