import { useMutation, useQueryClient } from '@tanstack/react-query';

import { setSessionInCache } from '@/features/private/api/get-session';
import { privateKeys } from '@/features/private/api/keys';
import { body, client } from '@/lib/api-client';
import type { PrivateSession } from '@/types/api';

/** The state changes of a session, each `POST /api/private/sessions/{id}/{action}` answering the session. */
export type SessionAction = 'accept' | 'decline' | 'cancel' | 'end';

export const postSessionAction = (id: string, action: SessionAction) =>
  body(client.POST('/api/private/sessions/{id}/{action}', { params: { path: { id, action } } }));

export type SessionActionOptions = {
  /**
   * Runs with the answer even when the component that asked is gone: the
   * push about the same change (`private:update`) may arrive first and take
   * an answered request's toast away, and `mutate`'s own callbacks then
   * never run.
   */
  onSuccess?: (session: PrivateSession) => void;
};

/** A mutation for one action; its answer (the changed session) goes into the cache. */
export function useSessionAction(action: SessionAction, options: SessionActionOptions = {}) {
  const queryClient = useQueryClient();
  const { onSuccess } = options;
  return useMutation({
    mutationFn: (id: string) => postSessionAction(id, action),
    onSuccess: (session) => {
      setSessionInCache(queryClient, session);
      void queryClient.invalidateQueries({ queryKey: privateKeys.sessionList() });
      onSuccess?.(session);
    },
  });
}
