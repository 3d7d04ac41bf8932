/** The parts of an UpdateExpression that set fields, with placeholder names and values. */
export interface SetClause {
  /** `#f0 = :v0, #f1 = :v1` (each path under `within` when given, e.g. `#reward.#f0`). */
  set: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * `SET` assignments for a PATCH: every field through a placeholder, so no field name can collide
 * with a DynamoDB reserved word and no value is ever spliced into the expression.
 */
export function setClause(fields: Record<string, unknown>, within?: string): SetClause {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(fields).map(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:v${i}`] = value;
    return `${within ? `${within}.` : ''}#f${i} = :v${i}`;
  });
  return { set: assignments.join(', '), names, values };
}
