import { useParams } from 'react-router';

import { RequireUser } from '@/app/routes/require-user';
import { PrivateSessionView } from '@/features/private/components/private-session-view';

export function PrivateSessionRoute() {
  const { id = '' } = useParams();
  return <RequireUser>{(user) => <PrivateSessionView key={id} sessionId={id} user={user} />}</RequireUser>;
}
