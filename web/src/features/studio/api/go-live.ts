import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { Room } from '@/types/api';

/** `POST /api/rooms/{id}/live`: a new live session (or the running one). */
export const goLive = (id: string) => body(client.POST('/api/rooms/{id}/live', { params: { path: { id } } }));

export function useGoLive(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => goLive(id),
    onSuccess: (room) => {
      queryClient.setQueryData<Room>(queryKeys.rooms.detail(id), { ...room, access: 'creator' });
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
    },
  });
}
