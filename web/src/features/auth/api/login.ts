import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { startSession } from '@/lib/auth';
import type { AuthResponse } from '@/types/api';

export type LoginInput = { login: string; password: string };

export const login = (input: LoginInput) => api.post<AuthResponse>('/auth/login', input);

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
