import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `PUT /api/rooms/{id}/thumbnail` with the JPEG itself as the body. */
export const uploadThumbnail = (id: string, image: Blob) =>
  api.put<void>(`/rooms/${encodeURIComponent(id)}/thumbnail`, image, {
    headers: { 'Content-Type': 'image/jpeg' },
  });

export function useUploadThumbnail(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (image: Blob) => uploadThumbnail(id, image),
    // The room's `thumbnailUrl` carries a new version.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() }),
  });
}
