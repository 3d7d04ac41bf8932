/**
 * Nelder–Mead minimisation: derivative-free, robust on the likelihood surfaces of the customer-base
 * models when run in log-space (every parameter is positive, so x = e^θ leaves θ unconstrained).
 * Restarted from its best point until a restart no longer improves, which guards against the simplex
 * collapsing early on a long, flat ridge.
 */
export interface Minimum {
  point: number[];
  value: number;
  iterations: number;
}

export function nelderMead(
  f: (point: number[]) => number,
  start: number[],
  options: { tolerance?: number; maxIterations?: number; step?: number } = {},
): Minimum {
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 5_000;
  const step = options.step ?? 0.5;
  const n = start.length;
  const safe = (point: number[]) => {
    const value = f(point);
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };
  let simplex = [start, ...start.map((_, i) => start.map((x, j) => (i === j ? x + step : x)))].map(
    (point) => ({ point, value: safe(point) }),
  );
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.value - q.value);
    const best = simplex[0] as { point: number[]; value: number };
    const worst = simplex[n] as { point: number[]; value: number };
    if (Math.abs(worst.value - best.value) <= tolerance * (Math.abs(best.value) + tolerance)) break;
    const centroid = start.map(
      (_, j) => simplex.slice(0, n).reduce((sum, v) => sum + (v.point[j] as number), 0) / n,
    );
    const along = (t: number) => centroid.map((c, j) => c + t * ((worst.point[j] as number) - c));
    const reflected = { point: along(-1), value: 0 };
    reflected.value = safe(reflected.point);
    const secondWorst = simplex[n - 1] as { value: number };
    if (reflected.value < best.value) {
      const expanded = { point: along(-2), value: 0 };
      expanded.value = safe(expanded.point);
      simplex[n] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < secondWorst.value) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = { point: along(outside ? -0.5 : 0.5), value: 0 };
      contracted.value = safe(contracted.point);
      if (contracted.value < (outside ? reflected.value : worst.value)) simplex[n] = contracted;
      else {
        simplex = simplex.map((vertex, i) => {
          if (i === 0) return vertex;
          const point = vertex.point.map(
            (x, j) => (best.point[j] as number) + 0.5 * (x - (best.point[j] as number)),
          );
          return { point, value: safe(point) };
        });
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  const best = simplex[0] as { point: number[]; value: number };
  return { point: best.point, value: best.value, iterations };
}

/** Nelder–Mead restarted from its best point until a restart gains nothing more. */
export function minimise(f: (point: number[]) => number, start: number[]): Minimum {
  let best = nelderMead(f, start);
  for (let restart = 0; restart < 20; restart++) {
    const again = nelderMead(f, best.point, { step: 0.1 });
    const gained = best.value - again.value;
    if (again.value < best.value) best = { ...again, iterations: best.iterations + again.iterations };
    if (gained <= 1e-9 * Math.abs(best.value)) break;
  }
  return best;
}
