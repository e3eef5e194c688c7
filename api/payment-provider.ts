// Payments go through a provider interface. The built-in test provider approves every payment method but
// `pm_card_declined`. A real provider would authorize here (before the writer records the outcome) and void the
// authorization if the writer answers hold_expired or invalid_status.
export interface PaymentProvider {
  authorize(input: { reservationId: string; amount: number; currency: string; paymentMethod: string }): Promise<'approved' | 'declined'>;
}

export const testPaymentProvider: PaymentProvider = {
  async authorize({ paymentMethod }) {
    return paymentMethod === 'pm_card_declined' ? 'declined' : 'approved';
  },
};
