import { EmptyState } from '@/components/ui/empty-state';
import { Link } from '@/components/ui/link';
import { paths } from '@/config/paths';
import { useDocumentTitle } from '@/lib/hooks';

export function NotFoundRoute() {
  useDocumentTitle('Not found');
  return (
    <EmptyState title="This page does not exist" action={<Link to={paths.home.getHref()}>Browse live streams</Link>}>
      The link may be old, or the address mistyped.
    </EmptyState>
  );
}
