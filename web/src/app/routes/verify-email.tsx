import { useSearchParams } from 'react-router';

import { Card } from '@/components/ui/card';
import { VerifyEmail } from '@/features/auth/components/verify-email';
import { useDocumentTitle } from '@/lib/hooks';

/** Where the e-mailed link lands: `/verify-email?token=...`, signed in or not. */
export function VerifyEmailRoute() {
  useDocumentTitle('Verify your e-mail address');
  const [params] = useSearchParams();
  return (
    <div className="mx-auto max-w-md py-6">
      <Card>
        <h1 className="mb-4 text-xl font-bold">E-mail verification</h1>
        <VerifyEmail token={params.get('token')?.trim() || null} />
      </Card>
    </div>
  );
}
