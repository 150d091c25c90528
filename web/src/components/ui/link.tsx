import { Link as RouterLink, type LinkProps } from 'react-router';

import { cn } from '@/utils/cn';

export function Link({ className, ...props }: LinkProps) {
  return (
    <RouterLink
      className={cn('font-medium text-brand-700 underline-offset-2 hover:underline dark:text-brand-100', className)}
      {...props}
    />
  );
}
