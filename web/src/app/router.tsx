import { createBrowserRouter, type RouteObject } from 'react-router';

import { paths } from '@/config/paths';
import { PageLoading, RootErrorBoundary, RootLayout } from '@/app/routes/root';

/** Each page is its own chunk, loaded on first visit. */
export const routes: RouteObject[] = [
  {
    path: '/',
    element: <RootLayout />,
    errorElement: <RootErrorBoundary />,
    // Shown while the first page's chunk loads.
    hydrateFallbackElement: <PageLoading />,
    children: [
      { index: true, lazy: () => import('@/app/routes/home').then((m) => ({ Component: m.HomeRoute })) },
      { path: paths.room.path, lazy: () => import('@/app/routes/room').then((m) => ({ Component: m.RoomRoute })) },
      { path: paths.login.path, lazy: () => import('@/app/routes/auth').then((m) => ({ Component: m.LoginRoute })) },
      { path: paths.register.path, lazy: () => import('@/app/routes/auth').then((m) => ({ Component: m.RegisterRoute })) },
      { path: paths.verifyEmail.path, lazy: () => import('@/app/routes/verify-email').then((m) => ({ Component: m.VerifyEmailRoute })) },
      { path: paths.studio.path, lazy: () => import('@/app/routes/studio').then((m) => ({ Component: m.StudioRoute })) },
      { path: paths.studioRoom.path, lazy: () => import('@/app/routes/studio').then((m) => ({ Component: m.StudioRoomRoute })) },
      { path: paths.wallet.path, lazy: () => import('@/app/routes/wallet').then((m) => ({ Component: m.WalletRoute })) },
      { path: paths.history.path, lazy: () => import('@/app/routes/history').then((m) => ({ Component: m.HistoryRoute })) },
      { path: '*', lazy: () => import('@/app/routes/not-found').then((m) => ({ Component: m.NotFoundRoute })) },
    ],
  },
];

export function createAppRouter() {
  return createBrowserRouter(routes);
}
