import { useMutation, useQueryClient } from '@tanstack/react-query';

import { body, client } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import type { NotificationPage } from '@/types/api';

/** `POST /api/notifications/read`: the given ids, or all when none are given. */
export const markNotificationsRead = (ids?: string[]) =>
  body(client.POST('/api/notifications/read', { body: ids ? { ids } : {} }));

export function useMarkNotificationsRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: markNotificationsRead,
    onSuccess: ({ unreadCount }, ids) => {
      queryClient.setQueryData<NotificationPage>(queryKeys.notifications, (page) =>
        page
          ? {
              ...page,
              unreadCount,
              items: page.items.map((n) => (!ids || ids.includes(n.id) ? { ...n, read: true } : n)),
            }
          : page,
      );
    },
  });
}
