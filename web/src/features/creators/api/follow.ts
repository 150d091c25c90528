import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { CreatorProfile } from '@/types/api';

/** `PUT` (follow) or `DELETE` (unfollow) `/api/creators/{username}/follow`. */
export const setFollowing = (username: string, follow: boolean) => {
  const params = { params: { path: { username } } };
  return body(
    follow
      ? client.PUT('/api/creators/{username}/follow', params)
      : client.DELETE('/api/creators/{username}/follow', params),
  );
};

/** Follows or unfollows; the page's count and the "Following" row follow. */
export function useFollow(username: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (follow: boolean) => setFollowing(username, follow),
    onSuccess: (state) => {
      queryClient.setQueryData<CreatorProfile>(queryKeys.creator(username), (profile) =>
        profile ? { ...profile, ...state } : profile,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.rooms.lists() });
    },
  });
}
