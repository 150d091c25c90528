/** Renders a component the way the app does: with a query client and a router. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';

import { BroadcastProvider } from '@/lib/broadcast/context';
import { queryKeys } from '@/lib/query-keys';
import { useRealtimeCacheSync } from '@/lib/realtime';
import { getSocket } from '@/lib/socket';
import type { FakeSocket } from '@/testing/fake-socket';
import type { User } from '@/types/api';

export function createTestQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, gcTime: Infinity, staleTime: 0, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

type Options = {
  /** The URL the router starts at; `path` is the route pattern the element is mounted on. */
  url?: string;
  path?: string;
  /** Seeds the signed-in user (`null` for anonymous). */
  user?: User | null;
  queryClient?: QueryClient;
  /** Mounts the socket-to-cache wiring the app provider mounts. */
  realtime?: boolean;
  /** Renders under a root `StrictMode`, as `main.tsx` does (effects run twice on mount). */
  strict?: boolean;
};

function RealtimeSync() {
  useRealtimeCacheSync();
  return null;
}

export function renderWithApp(
  ui: ReactNode,
  { url = '/', path = '/', user, queryClient = createTestQueryClient(), realtime = false, strict = false }: Options = {},
) {
  if (user !== undefined) {
    queryClient.setQueryData(queryKeys.me, user);
    if (user) queryClient.setQueryData(queryKeys.balance, { coins: user.coins });
  }
  const router = createMemoryRouter(
    [
      { path, element: ui },
      { path: '*', element: <p>Elsewhere</p> },
    ],
    { initialEntries: [url] },
  );
  const result = render(
    <QueryClientProvider client={queryClient}>
      {realtime && <RealtimeSync />}
      <BroadcastProvider>
        <RouterProvider router={router} />
      </BroadcastProvider>
    </QueryClientProvider>,
    // Only a StrictMode at the root runs effects twice.
    { reactStrictMode: strict },
  );
  return { ...result, queryClient, router };
}

/** The fake socket installed for this test (see setup.ts). */
export function fakeSocket(): FakeSocket {
  return getSocket() as FakeSocket;
}
