import { queryOptions, useQuery } from '@tanstack/react-query';

import { ApiError, body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { StreamKey } from '@/types/api';

/**
 * `GET /api/rooms/{id}/stream-key`: the secret OBS uses as its WHIP bearer
 * token. `null` when the server does not offer stream keys (404).
 */
export const getStreamKey = async (id: string, signal?: AbortSignal): Promise<StreamKey | null> => {
  try {
    return await body(client.GET('/api/rooms/{id}/stream-key', { params: { path: { id } }, signal }));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
};

export const streamKeyQueryOptions = (id: string) =>
  queryOptions({
    queryKey: queryKeys.streamKey(id),
    queryFn: ({ signal }) => getStreamKey(id, signal),
    staleTime: Infinity,
  });

export function useStreamKey(id: string) {
  return useQuery(streamKeyQueryOptions(id));
}
