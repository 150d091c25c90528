import { useParams } from 'react-router';

import { CreatorPage } from '@/features/creators/components/creator-page';
import { useUser } from '@/lib/auth';
import { useDocumentTitle } from '@/lib/hooks';

export function CreatorRoute() {
  const { username = '' } = useParams();
  const { data: user } = useUser();
  useDocumentTitle(username);
  return <CreatorPage key={username} username={username} user={user ?? null} />;
}
