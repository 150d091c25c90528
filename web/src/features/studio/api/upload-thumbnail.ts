import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `PUT /api/rooms/{id}/thumbnail` with the JPEG itself as the body. */
export const uploadThumbnail = (id: string, image: Blob) =>
  body(
    client.PUT('/api/rooms/{id}/thumbnail', {
      params: { path: { id } },
      // The description types a binary body as a string; the client sends a Blob as it is.
      body: image as unknown as string,
      headers: { 'Content-Type': 'image/jpeg' },
    }),
  );

export function useUploadThumbnail(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (image: Blob) => uploadThumbnail(id, image),
    // The room's `thumbnailUrl` carries a new version.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() }),
  });
}
