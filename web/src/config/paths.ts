/** Every route of the app in one place, with builders for links. */
export const paths = {
  home: { path: '/', getHref: () => '/' },
  login: {
    path: '/login',
    getHref: (redirectTo?: string | null) =>
      `/login${redirectTo ? `?redirectTo=${encodeURIComponent(redirectTo)}` : ''}`,
  },
  register: {
    path: '/register',
    getHref: (redirectTo?: string | null) =>
      `/register${redirectTo ? `?redirectTo=${encodeURIComponent(redirectTo)}` : ''}`,
  },
  room: { path: '/rooms/:id', getHref: (id: string) => `/rooms/${encodeURIComponent(id)}` },
  studio: { path: '/studio', getHref: () => '/studio' },
  studioRoom: {
    path: '/studio/:roomId',
    getHref: (roomId: string) => `/studio/${encodeURIComponent(roomId)}`,
  },
  /** A one-to-one private session's page (both parties). */
  privateSession: {
    path: '/private/:id',
    getHref: (id: string) => `/private/${encodeURIComponent(id)}`,
  },
  /** The page the e-mailed verification link opens. */
  verifyEmail: {
    path: '/verify-email',
    getHref: (token?: string) => `/verify-email${token ? `?token=${encodeURIComponent(token)}` : ''}`,
  },
  /** `returnTo`: a same-origin path the wallet leads back to after buying coins. */
  wallet: {
    path: '/wallet',
    getHref: (returnTo?: string | null) =>
      `/wallet${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
  },
  /** Where a checkout comes back to (Stripe's `success_url`). */
  walletReturn: {
    path: '/wallet/return',
    getHref: (purchaseId: string) => `/wallet/return?purchase=${encodeURIComponent(purchaseId)}`,
  },
  /** The test provider's confirmation page (`STREAMSHARE_TEST_PAYMENTS=1`). */
  walletTestCheckout: {
    path: '/wallet/test-checkout/:purchaseId',
    getHref: (purchaseId: string) => `/wallet/test-checkout/${encodeURIComponent(purchaseId)}`,
  },
  earnings: { path: '/wallet/earnings', getHref: () => '/wallet/earnings' },
  history: { path: '/history', getHref: () => '/history' },
  /** A creator's public page. */
  creator: { path: '/u/:username', getHref: (username: string) => `/u/${encodeURIComponent(username)}` },
} as const;
