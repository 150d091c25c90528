import { clsx, type ClassValue } from 'clsx';
import { twMerge } from 'tailwind-merge';

/**
 * Joins class names (clsx: strings, conditionals, arrays, objects) and lets a
 * later Tailwind class win over an earlier one of the same property
 * (tailwind-merge), so `cn('px-4', className)` can be overridden by the caller
 * instead of resolving by stylesheet order.
 */
export function cn(...classes: ClassValue[]): string {
  return twMerge(clsx(classes));
}
