import { useSessionAction } from '@/features/private/api/session-action';

/** `POST /api/private/sessions/{id}/cancel` (the viewer, while requested). */
export const useCancelSession = () => useSessionAction('cancel');
