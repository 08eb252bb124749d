/**
 * Where prices and receipts plug in (billing, issue 11): the station page shows the price before
 * charging (EU AFIR), the live session its running cost, a completed session its receipt. Each
 * renders nothing until the API offers them.
 */
export function PriceInfo(_: { stationId: string }) {
  return null;
}

export function RunningCost(_: { stationId: string; transactionId: string }) {
  return null;
}

export function Receipt(_: { stationId: string; transactionId: string }) {
  return null;
}
