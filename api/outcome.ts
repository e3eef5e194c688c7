import type { Outcome } from '../engine/command-router.js';
import type { Accepted } from '../engine/core/types.js';
import { ApiError } from './errors.js';

/** The accepted reply of a command, or the contract error its rejection maps to. */
export function acceptedOf(o: Outcome, what: string): Accepted {
  if (o.kind === 'unavailable') throw new ApiError('unavailable', o.message, undefined, { 'Retry-After': '1' });
  if (o.kind === 'late') {
    throw new ApiError('unavailable', `the ${what} was queued but not decided in time; it will be applied shortly`, undefined, {
      'Retry-After': '1',
    });
  }
  const r = o.reply;
  if (!r.ok) throw new ApiError(r.code, r.message, r.details, r.code === 'unavailable' ? { 'Retry-After': '1' } : undefined);
  return r;
}
