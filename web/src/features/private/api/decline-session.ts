import { useSessionAction, type SessionActionOptions } from '@/features/private/api/session-action';

/** `POST /api/private/sessions/{id}/decline` (the creator, while requested). */
export const useDeclineSession = (options?: SessionActionOptions) => useSessionAction('decline', options);
