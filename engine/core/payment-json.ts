// A payment as the API shows it (API.md: `{amount, reference, paidAt, refund: null | {status, amount, reference?}}`),
// in that key order whatever it was read from (jsonb orders keys its own way): GET /v1/reservations/:id and the
// reservation events' `data` both show it through here.
import type { Payment } from './types.js';

export function paymentJson(p: Payment | null | undefined): Payment | null {
  if (!p) return null;
  const r = p.refund;
  return {
    amount: p.amount,
    reference: p.reference,
    paidAt: p.paidAt,
    refund: r && { status: r.status, amount: r.amount, ...(r.reference === undefined ? {} : { reference: r.reference }) },
  };
}
