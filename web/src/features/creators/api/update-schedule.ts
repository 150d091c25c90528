import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { CreatorProfile } from '@/types/api';

/** `PUT /api/users/me/profile`: the schedule text on the creator's page. */
export const updateSchedule = (schedule: string) =>
  body(client.PUT('/api/users/me/profile', { body: { schedule } }));

export function useUpdateSchedule(username: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateSchedule,
    onSuccess: ({ schedule }) => {
      queryClient.setQueryData<CreatorProfile>(queryKeys.creator(username), (profile) =>
        profile ? { ...profile, schedule } : profile,
      );
    },
  });
}
