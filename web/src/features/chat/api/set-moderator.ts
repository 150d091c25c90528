import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { updateRoomChannel } from '@/lib/room-channel';
import { updateRoomInCache } from '@/lib/room-cache';
import type { ChatUser } from '@/types/api';

/** `PUT` (appoint) or `DELETE` (remove) `/api/rooms/{id}/moderators/{userId}`: the creator only. */
export const setModerator = (roomId: string, userId: string, appoint: boolean) => {
  const params = { params: { path: { id: roomId, userId } } };
  return body(
    appoint
      ? client.PUT('/api/rooms/{id}/moderators/{userId}', params)
      : client.DELETE('/api/rooms/{id}/moderators/{userId}', params),
  );
};

export function useSetModerator(roomId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ user, appoint }: { user: ChatUser; appoint: boolean }) => setModerator(roomId, user.id, appoint),
    onSuccess: ({ items }) => {
      const moderatorIds = items.map((u) => u.id);
      updateRoomInCache(queryClient, roomId, (room) => ({ ...room, moderatorIds }));
      updateRoomChannel(queryClient, roomId, (channel) => ({ ...channel, moderatorIds }));
    },
  });
}
