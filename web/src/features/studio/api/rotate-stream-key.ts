import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `POST /api/rooms/{id}/stream-key/rotate`: the old key stops working. */
export const rotateStreamKey = (id: string) =>
  body(client.POST('/api/rooms/{id}/stream-key/rotate', { params: { path: { id } } }));

export function useRotateStreamKey(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => rotateStreamKey(id),
    onSuccess: (key) => queryClient.setQueryData(queryKeys.streamKey(id), key),
  });
}
