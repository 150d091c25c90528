import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { startSession } from '@/lib/auth';

export type LoginInput = { login: string; password: string };

export const login = (input: LoginInput) => body(client.POST('/api/auth/login', { body: input }));

export function useLogin({ onSuccess }: { onSuccess?: () => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: (data) => {
      startSession(queryClient, data);
      onSuccess?.();
    },
  });
}
