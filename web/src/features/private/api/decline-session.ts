import { useSessionAction } from '@/features/private/api/session-action';

/** `POST /api/private/sessions/{id}/decline` (the creator, while requested). */
export const useDeclineSession = () => useSessionAction('decline');
