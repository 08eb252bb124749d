/**
 * Where payments plug in (issue 12): paying at the station page besides charging with a token,
 * saved payment methods on the cards page, and ad-hoc payment on the QR page (`/pay/:stationId`).
 * Each renders nothing until the API offers payments.
 */
export function PayOption(_: { stationId: string }) {
  return null;
}

export function PaymentMethods() {
  return null;
}
