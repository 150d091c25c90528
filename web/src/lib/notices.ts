/**
 * Messages for the user that arrive over the socket rather than as the
 * answer to something they did (a refund): kept in the query cache under
 * `queryKeys.notices`, shown by `<Notices />` until dismissed.
 */
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';

import { queryKeys } from '@/lib/query-keys';

export type Notice = {
  /** Stable per cause (the refund's transaction id): the same push twice shows once. */
  id: string;
  tone: 'success' | 'info';
  text: string;
  /** Where to read more (the wallet). */
  link?: { to: string; label: string };
};

export function pushNotice(queryClient: QueryClient, notice: Notice): void {
  queryClient.setQueryData<Notice[]>(queryKeys.notices, (notices = []) => [
    ...notices.filter((n) => n.id !== notice.id),
    notice,
  ]);
}

export function dismissNotice(queryClient: QueryClient, id: string): void {
  queryClient.setQueryData<Notice[]>(queryKeys.notices, (notices = []) => notices.filter((n) => n.id !== id));
}

/** The notices to show, oldest first. */
export function useNotices(): Notice[] {
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: queryKeys.notices,
    // Never fetched: only the socket writes it.
    queryFn: () => queryClient.getQueryData<Notice[]>(queryKeys.notices) ?? [],
    initialData: [],
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return data;
}
