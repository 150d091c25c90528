/**
 * Hearing rooms without being in them: `room:watch` (one room's public
 * state, for the pay gate: no payment needed) and `lobby:join` (every room's,
 * for the home page). The server then sends `room:away`, `room:back` and
 * `room:ended`, which the realtime layer writes into the room caches.
 *
 * Both are queries shared by their holders, like `room:join`
 * (`room-channel.ts`): the last holder out unwatches, and on a socket
 * reconnect (the server forgot them) the realtime layer invalidates them so
 * they subscribe again.
 */
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

import { createHolders, useHold } from '@/lib/holders';
import { queryKeys } from '@/lib/query-keys';
import { mergeRoomIntoCache } from '@/lib/room-cache';
import { emitWithAck, SocketAckError, wantGuestSocket } from '@/lib/socket';

/** Nothing to keep but when it happened: events carry the state. */
export type Subscription = { since: number };

const TRANSIENT = new Set(['timeout', 'error']);
const subscriptionQuery = {
  // Only a reconnect makes it stale (the realtime layer invalidates it).
  staleTime: Infinity,
  gcTime: 60_000,
  refetchOnWindowFocus: false,
  refetchOnReconnect: false,
  retry: (count: number, error: unknown) => error instanceof SocketAckError && TRANSIENT.has(error.code) && count < 2,
} as const;

const watches = createHolders();

function unwatchRoom(roomId: string, queryClient: QueryClient): void {
  queryClient.removeQueries({ queryKey: queryKeys.roomWatch(roomId), exact: true });
  // Unwatching after a disconnect is refused harmlessly.
  emitWithAck('room:unwatch', { roomId }).catch(() => undefined);
}

/** Watches `roomId` while `enabled`; the answer's room refreshes the cached one. */
export function useRoomWatch(roomId: string, enabled: boolean) {
  const queryClient = useQueryClient();
  const active = enabled && roomId !== '';
  useHold(watches, roomId, active, unwatchRoom);
  return useQuery({
    ...subscriptionQuery,
    queryKey: queryKeys.roomWatch(roomId),
    queryFn: async (): Promise<Subscription> => {
      const { room } = await emitWithAck('room:watch', { roomId });
      if (room) mergeRoomIntoCache(queryClient, room);
      return { since: Date.now() };
    },
    enabled: active,
  });
}

const lobby = createHolders();
const LOBBY = 'lobby';

function leaveLobby(_key: string, queryClient: QueryClient): void {
  queryClient.removeQueries({ queryKey: queryKeys.lobby, exact: true });
  emitWithAck('lobby:leave', {}).catch(() => undefined);
}

/**
 * Is in the lobby while `enabled`: `room:live`, `room:count`,
 * `room:updated`, away/back/ended for every room. Signed out, this asks for
 * a guest connection (the server lets it follow the lobby only).
 */
export function useLobby(enabled: boolean) {
  useHold(lobby, LOBBY, enabled, leaveLobby);
  useEffect(() => (enabled ? wantGuestSocket() : undefined), [enabled]);
  return useQuery({
    ...subscriptionQuery,
    queryKey: queryKeys.lobby,
    queryFn: async (): Promise<Subscription> => {
      await emitWithAck('lobby:join', {});
      return { since: Date.now() };
    },
    enabled,
  });
}
