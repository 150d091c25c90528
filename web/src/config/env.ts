/** Build-time settings. The app talks to the origin that served it unless told otherwise. */
export const env = {
  /** Prefix of every REST call; the API lives under `/api` on the same origin. */
  apiBase: `${(import.meta.env.VITE_API_ORIGIN as string | undefined) ?? ''}/api`,
  /** Socket.IO server origin (same origin by default) and path. */
  socketOrigin: (import.meta.env.VITE_API_ORIGIN as string | undefined) ?? undefined,
  socketPath: '/socket.io',
} as const;
