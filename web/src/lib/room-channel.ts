/**
 * Being in a room over Socket.IO: `room:join` as a query whose data (role,
 * viewer count, recent chat, ended) socket events keep current, and
 * `room:leave` when the last component that needs the room goes away.
 *
 * The room page, its chat and the studio each call `useRoomChannel`; they
 * share one join. On a socket reconnect the server has forgotten the join,
 * so the realtime layer invalidates these queries and they join again.
 */
import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query';

import { createHolders, useHold } from '@/lib/holders';
import { queryKeys } from '@/lib/query-keys';
import { emitWithAck, type RoomRole, SocketAckError } from '@/lib/socket';
import type { ChatMessage } from '@/types/api';

export type RoomChannel = {
  role: RoomRole;
  viewerCount: number;
  /** Recent chat, oldest first, as the join answered it. */
  messages: ChatMessage[];
  /** The creator ended the stream (`room:ended`). */
  ended: boolean;
  /** The creator banned the user: the server took them out of the room. */
  banned: boolean;
  /** When this join happened: a new value means a re-join (after a reconnect). */
  joinedAt: number;
  /** Who the creator appointed to moderate the chat (`room:moderators` keeps it current). */
  moderatorIds: string[];
};

export async function joinRoom(roomId: string): Promise<RoomChannel> {
  const ack = await emitWithAck('room:join', { roomId });
  const messages = [...(ack.messages ?? [])].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  return {
    role: ack.role,
    viewerCount: ack.viewerCount,
    messages,
    ended: false,
    banned: false,
    joinedAt: Date.now(),
    moderatorIds: ack.room?.moderatorIds ?? [],
  };
}

const TRANSIENT = new Set(['timeout', 'error']);

export const roomChannelQueryOptions = (roomId: string) =>
  queryOptions({
    queryKey: queryKeys.roomChannel(roomId),
    queryFn: () => joinRoom(roomId),
    // Only events change it; it is fetched again (re-joined) after a reconnect.
    staleTime: Infinity,
    gcTime: 60_000,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: (count, error) => error instanceof SocketAckError && TRANSIENT.has(error.code) && count < 2,
  });

// How many mounted components need each room; the last one out leaves.
const channels = createHolders();

function leaveRoom(roomId: string, queryClient: QueryClient): void {
  queryClient.removeQueries({ queryKey: queryKeys.roomChannel(roomId), exact: true });
  queryClient.removeQueries({ queryKey: queryKeys.chat(roomId), exact: true });
  // Leaving a room one never joined, or after a disconnect, is refused harmlessly.
  emitWithAck('room:leave', { roomId }).catch(() => undefined);
}

/**
 * Joins `roomId` while `enabled` (the caller has access and is signed in) and
 * returns the join as a query.
 */
export function useRoomChannel(roomId: string, enabled: boolean) {
  const active = enabled && roomId !== '';
  useHold(channels, roomId, active, leaveRoom);
  return useQuery({ ...roomChannelQueryOptions(roomId), enabled: active });
}

/** Applies a change to a joined room's channel data (no-op when not joined). */
export function updateRoomChannel(
  queryClient: QueryClient,
  roomId: string,
  update: (channel: RoomChannel) => RoomChannel,
): void {
  queryClient.setQueryData<RoomChannel>(queryKeys.roomChannel(roomId), (channel) =>
    channel ? update(channel) : channel,
  );
}
