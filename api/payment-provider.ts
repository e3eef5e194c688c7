// Payments go through a provider interface. The built-in test provider approves every payment method but
// `pm_card_declined`. A real provider would authorize here (before the writer records the outcome) and void the
// authorization if the writer answers hold_expired or invalid_status.
import { paymentProviderTimeoutMs } from '../engine/limits.js';
import { ApiError } from './errors.js';

export interface PaymentInput {
  reservationId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
}

export interface PaymentProvider {
  authorize(input: PaymentInput): Promise<'approved' | 'declined'>;
}

export const testPaymentProvider: PaymentProvider = {
  async authorize({ paymentMethod }) {
    return paymentMethod === 'pm_card_declined' ? 'declined' : 'approved';
  },
};

/**
 * The provider's answer, or 503 `unavailable` (with Retry-After) when it throws or does not answer within
 * `timeoutMs`: a provider's failure says nothing about the request, so it is not a 500, and nothing is sent to the
 * writer, so the reservation stays as it was and the client may pay again (with the same Idempotency-Key).
 */
export async function authorizeWithin(
  provider: PaymentProvider,
  input: PaymentInput,
  timeoutMs = paymentProviderTimeoutMs,
): Promise<'approved' | 'declined'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // A provider that throws synchronously is caught here too (the call sits inside the try).
    return await Promise.race([provider.authorize(input), late]);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ApiError('unavailable', `the payment provider did not answer (${why}); the reservation is unchanged, try again`, undefined, {
      'Retry-After': '1',
    });
  } finally {
    clearTimeout(timer);
  }
}
