import { RequireUser } from '@/app/routes/require-user';
import { HistoryList } from '@/features/history/components/history-list';
import { PrivateSessionList } from '@/features/private/components/private-session-list';
import { useDocumentTitle } from '@/lib/hooks';

export function HistoryRoute() {
  useDocumentTitle('History');
  return (
    <RequireUser>
      {(user) => (
        <div className="space-y-8">
          <HistoryList />
          <div className="mx-auto max-w-3xl">
            <PrivateSessionList meId={user.id} />
          </div>
        </div>
      )}
    </RequireUser>
  );
}
