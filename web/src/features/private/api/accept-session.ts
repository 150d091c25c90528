import { useSessionAction, type SessionActionOptions } from '@/features/private/api/session-action';

/**
 * `POST /api/private/sessions/{id}/accept` (the creator): the session starts
 * and the viewer's first period is held. 409 `request_expired` /
 * `request_closed`; 402 `insufficient_funds` when the viewer can no longer pay.
 */
export const useAcceptSession = (options?: SessionActionOptions) => useSessionAction('accept', options);
