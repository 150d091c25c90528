import { useQuery } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

/** `GET /api/chat/settings`: the domains whose links the chat shows as links. */
export const getChatSettings = (signal?: AbortSignal) => body(client.GET('/api/chat/settings', { signal }));

export function useChatSettings() {
  return useQuery({
    queryKey: queryKeys.chatSettings,
    queryFn: ({ signal }) => getChatSettings(signal),
    staleTime: Infinity,
  });
}
