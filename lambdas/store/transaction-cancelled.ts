/** A TransactWriteItems DynamoDB cancelled, with the reason of each item (in request order). */
export interface CancellationReason {
  code: string;
  /** The item as it was, when the operation asked for ALL_OLD on a failed condition. */
  item?: Record<string, unknown>;
}

/** A transaction DynamoDB refused, with one reason per item in request order. */
export class TransactionCancelledError extends Error {
  readonly reasons: CancellationReason[];
  constructor(reasons: CancellationReason[], cause: unknown) {
    super(`transaction cancelled: ${reasons.map((reason) => reason.code).join(', ')}`, { cause });
    this.name = 'TransactionCancelledError';
    this.reasons = reasons;
  }

  failedAt(index: number): CancellationReason | undefined {
    const reason = this.reasons[index];
    return reason && reason.code === 'ConditionalCheckFailed' ? reason : undefined;
  }

  /** Another transaction touched the same item (AWS reports TransactionConflict; retry). */
  get isConflict(): boolean {
    return this.reasons.some((reason) => reason.code === 'TransactionConflict');
  }
}
