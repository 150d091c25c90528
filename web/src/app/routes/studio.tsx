import { useParams } from 'react-router';

import { RequireUser } from '@/app/routes/require-user';
import { ChatPanel } from '@/features/chat/components/chat-panel';
import { PrivateOfferPanel } from '@/features/private/components/private-offer-panel';
import { StudioHome } from '@/features/studio/components/studio-home';
import { StudioRoom } from '@/features/studio/components/studio-room';
import { useDocumentTitle } from '@/lib/hooks';

export function StudioRoute() {
  useDocumentTitle('Studio');
  return (
    <RequireUser>
      {(user) => (
        <div className="space-y-6">
          <StudioHome user={user} />
          <div className="mx-auto max-w-4xl">
            <PrivateOfferPanel />
          </div>
        </div>
      )}
    </RequireUser>
  );
}

export function StudioRoomRoute() {
  const { roomId = '' } = useParams();
  return (
    <RequireUser>
      {(user) => (
        <StudioRoom
          key={roomId}
          roomId={roomId}
          user={user}
          renderChat={({ joined, notice }) => (
            <ChatPanel roomId={roomId} enabled={joined} notice={notice} currentUser={user} className="h-full" />
          )}
        />
      )}
    </RequireUser>
  );
}
