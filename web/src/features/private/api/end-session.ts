import { useSessionAction, type SessionActionOptions } from '@/features/private/api/session-action';

/** `POST /api/private/sessions/{id}/end` (either party, while active): ended and settled. */
export const useEndSession = (options?: SessionActionOptions) => useSessionAction('end', options);
