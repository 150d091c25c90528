import { useSessionAction, type SessionActionOptions } from '@/features/private/api/session-action';

/** `POST /api/private/sessions/{id}/cancel` (the viewer, while requested). */
export const useCancelSession = (options?: SessionActionOptions) => useSessionAction('cancel', options);
