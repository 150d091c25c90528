import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { RoomInput } from '@/features/studio/api/room-input';
import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Room } from '@/types/api';

export const createRoom = (input: RoomInput) => body(client.POST('/api/rooms', { body: input }));

export function useCreateRoom({ onSuccess }: { onSuccess?: (room: Room) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createRoom,
    onSuccess: (room) => {
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(room.id), { ...room, access: 'creator' });
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
      onSuccess?.(room);
    },
  });
}
