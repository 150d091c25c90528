import { RequireUser } from '@/app/routes/require-user';
import { HistoryList } from '@/features/history/components/history-list';
import { useDocumentTitle } from '@/lib/hooks';

export function HistoryRoute() {
  useDocumentTitle('History');
  return <RequireUser>{() => <HistoryList />}</RequireUser>;
}
