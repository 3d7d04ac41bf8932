/** Exact reasoning about decimal literals, for inputs whose decimal places are part of the contract. */

/**
 * A decimal literal as `sign digits e exponent` with no leading or trailing zeros, so two
 * spellings of the same number compare equal (`1.50`, `15e-1` → `15e-1`; any zero → `0`).
 */
export function canonicalDecimal(literal: string): string {
  const match = /^(-?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(literal);
  if (!match) return literal;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  let digits = `${whole}${fraction}`;
  let scale = Number(exponent) - fraction.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  scale += trailing;
  return `${sign}${digits}e${scale}`;
}

/** Decimal places of a number as JSON writes it (exact once the body parsed strictly). */
export function decimalPlaces(value: number): number {
  const canonical = canonicalDecimal(String(value));
  const scale = Number(canonical.split('e')[1] ?? 0);
  return scale < 0 ? -scale : 0;
}
