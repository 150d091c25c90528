/** Build-time settings. The app talks to the origin that served it unless told otherwise. */
export const env = {
  /** Origin of the REST API when it is not the page's own; the API lives under `/api` (the paths in docs/openapi.yaml). */
  apiOrigin: (import.meta.env.VITE_API_ORIGIN as string | undefined) ?? undefined,
  /** Socket.IO server origin (same origin by default) and path. */
  socketOrigin: (import.meta.env.VITE_API_ORIGIN as string | undefined) ?? undefined,
  socketPath: '/socket.io',
} as const;
