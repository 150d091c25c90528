import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Room } from '@/types/api';

/** `DELETE /api/rooms/{id}/live`: ends the session; viewers get `room:ended`. */
export const endLive = (id: string) => body(client.DELETE('/api/rooms/{id}/live', { params: { path: { id } } }));

export function useEndLive(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => endLive(id),
    onSuccess: (room) => {
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(id), { ...room, access: 'creator' });
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
    },
  });
}
