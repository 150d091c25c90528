import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { RoomInput } from '@/features/studio/api/room-input';
import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Room } from '@/types/api';

export const updateRoom = (id: string, input: Partial<RoomInput>) =>
  body(client.PATCH('/api/rooms/{id}', { params: { path: { id } }, body: input }));

export function useUpdateRoom(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Partial<RoomInput>) => updateRoom(id, input),
    onSuccess: (room) => {
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(id), (old) => ({ ...room, access: old?.access ?? 'creator' }));
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
    },
  });
}
