import { useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/creators/{username}`: profile, schedule, rooms, past sessions, follows. */
export const getCreator = (username: string, signal?: AbortSignal) =>
  body(client.GET('/api/creators/{username}', { params: { path: { username } }, signal }));

export function useCreator(username: string) {
  return useQuery({
    queryKey: queryKeys.creator(username),
    queryFn: ({ signal }) => getCreator(username, signal),
  });
}
