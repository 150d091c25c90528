import { useMutation, useQueryClient } from '@tanstack/react-query';

import { setSessionInCache } from '@/features/private/api/get-session';
import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';

/**
 * `POST /api/private/sessions {creatorId}`: the viewer asks. Refusals:
 * 402 `insufficient_funds` {balance, required}, 409 `not_accepting`,
 * `request_pending`, `creator_busy`, 400 `self_payment`.
 */
export const requestSession = (creatorId: string) => body(client.POST('/api/private/sessions', { body: { creatorId } }));

export function useRequestSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: requestSession,
    onSuccess: (session) => {
      setSessionInCache(queryClient, session);
      void queryClient.invalidateQueries({ queryKey: privateKeys.sessionList() });
    },
  });
}
