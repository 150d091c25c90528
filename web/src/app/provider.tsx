import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';

import { createQueryClient } from '@/lib/query-client';
import { useRealtimeCacheSync } from '@/lib/realtime';

function RealtimeSync() {
  useRealtimeCacheSync();
  return null;
}

/** Everything the app needs around its routes: the query cache and the live socket. */
export function AppProvider({ children, queryClient }: { children: ReactNode; queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <QueryClientProvider client={client}>
      <RealtimeSync />
      {children}
    </QueryClientProvider>
  );
}
