import type { QueryClient } from '@tanstack/react-query';
import { createBrowserRouter, type RouteObject } from 'react-router';

import { paths } from '@/config/paths';
import { PageLoading, RootErrorBoundary, RootLayout } from '@/app/routes/root';
import { prefetchHomeRooms } from '@/features/rooms/api/get-rooms';

/**
 * Each page is its own chunk, loaded on first visit. The home page's loader
 * starts its room lists at once, in parallel with the chunk (it returns
 * without waiting: the page shows its own skeletons). It runs again only when
 * the path changes, not for every keystroke of the search (the page debounces that).
 */
export const createRoutes = (queryClient: QueryClient): RouteObject[] => [
  {
    path: '/',
    element: <RootLayout />,
    errorElement: <RootErrorBoundary />,
    // Shown while the first page's chunk loads.
    hydrateFallbackElement: <PageLoading />,
    children: [
      {
        index: true,
        loader: ({ request }) => {
          prefetchHomeRooms(queryClient, new URL(request.url).searchParams);
          return null;
        },
        shouldRevalidate: ({ currentUrl, nextUrl }) => currentUrl.pathname !== nextUrl.pathname,
        lazy: () => import('@/app/routes/home').then((m) => ({ Component: m.HomeRoute })),
      },
      { path: paths.room.path, lazy: () => import('@/app/routes/room').then((m) => ({ Component: m.RoomRoute })) },
      { path: paths.login.path, lazy: () => import('@/app/routes/auth').then((m) => ({ Component: m.LoginRoute })) },
      { path: paths.register.path, lazy: () => import('@/app/routes/auth').then((m) => ({ Component: m.RegisterRoute })) },
      { path: paths.verifyEmail.path, lazy: () => import('@/app/routes/verify-email').then((m) => ({ Component: m.VerifyEmailRoute })) },
      { path: paths.studio.path, lazy: () => import('@/app/routes/studio').then((m) => ({ Component: m.StudioRoute })) },
      { path: paths.studioRoom.path, lazy: () => import('@/app/routes/studio').then((m) => ({ Component: m.StudioRoomRoute })) },
      { path: paths.privateSession.path, lazy: () => import('@/app/routes/private').then((m) => ({ Component: m.PrivateSessionRoute })) },
      { path: paths.wallet.path, lazy: () => import('@/app/routes/wallet').then((m) => ({ Component: m.WalletRoute })) },
      { path: paths.walletReturn.path, lazy: () => import('@/app/routes/wallet').then((m) => ({ Component: m.WalletReturnRoute })) },
      { path: paths.walletTestCheckout.path, lazy: () => import('@/app/routes/wallet').then((m) => ({ Component: m.WalletTestCheckoutRoute })) },
      { path: paths.earnings.path, lazy: () => import('@/app/routes/wallet').then((m) => ({ Component: m.EarningsRoute })) },
      { path: paths.creator.path, lazy: () => import('@/app/routes/creator').then((m) => ({ Component: m.CreatorRoute })) },
      { path: paths.history.path, lazy: () => import('@/app/routes/history').then((m) => ({ Component: m.HistoryRoute })) },
      { path: '*', lazy: () => import('@/app/routes/not-found').then((m) => ({ Component: m.NotFoundRoute })) },
    ],
  },
];

export function createAppRouter(queryClient: QueryClient) {
  return createBrowserRouter(createRoutes(queryClient));
}
