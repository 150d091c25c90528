import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { StreamKey } from '@/features/studio/api/get-stream-key';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `POST /api/rooms/{id}/stream-key/rotate`: the old key stops working. */
export const rotateStreamKey = (id: string) =>
  api.post<StreamKey>(`/rooms/${encodeURIComponent(id)}/stream-key/rotate`);

export function useRotateStreamKey(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => rotateStreamKey(id),
    onSuccess: (key) => queryClient.setQueryData(queryKeys.streamKey(id), key),
  });
}
