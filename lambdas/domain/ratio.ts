/**
 * Exact rational arithmetic for finance figures: rates given as decimals (0.95) become exact
 * fractions, amounts stay BigInt, and a figure is rounded once, at the end, by a stated rule.
 */
import { canonicalDecimal } from './decimal.ts';

export interface Ratio {
  num: bigint;
  /** Always > 0. */
  den: bigint;
}

/** The exact value of a decimal number as JSON writes it (0.95 → 95/100, never 0.9499999…). */
export function ratioOf(value: number): Ratio {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const [digits = '0', exponent = '0'] = canonicalDecimal(String(value)).split('e');
  const scale = Number(exponent);
  const num = BigInt(digits);
  return scale >= 0 ? { num: num * 10n ** BigInt(scale), den: 1n } : { num, den: 10n ** BigInt(-scale) };
}

/** num / den rounded half up (toward +∞ on a tie), den > 0. */
export function roundHalfUp(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new Error('a denominator must be positive');
  return floorDiv(2n * num + den, 2n * den);
}

/** ⌊num / den⌋ for den > 0 (BigInt division truncates toward zero). */
export function floorDiv(num: bigint, den: bigint): bigint {
  const quotient = num / den;
  return num % den !== 0n && num < 0n ? quotient - 1n : quotient;
}

/** The smaller of two ratios. */
export function minRatio(a: Ratio, b: Ratio): Ratio {
  return a.num * b.den <= b.num * a.den ? a : b;
}

export const ONE: Ratio = { num: 1n, den: 1n };
