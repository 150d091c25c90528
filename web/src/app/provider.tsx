import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';

import { BroadcastProvider } from '@/lib/broadcast/context';
import { createQueryClient } from '@/lib/query-client';
import { useRealtimeCacheSync } from '@/lib/realtime';

function RealtimeSync() {
  useRealtimeCacheSync();
  return null;
}

/**
 * Everything the app needs around its routes: the query cache, the live
 * socket and the creator's broadcast (which outlives any one page).
 */
export function AppProvider({ children, queryClient }: { children: ReactNode; queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <QueryClientProvider client={client}>
      <RealtimeSync />
      <BroadcastProvider>{children}</BroadcastProvider>
    </QueryClientProvider>
  );
}
