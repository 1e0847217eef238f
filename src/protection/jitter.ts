/**
 * Spreads a TTL randomly by `±fraction`, so keys written together do not expire together
 * (cache avalanche). The result is a whole number of milliseconds, at least 1.
 */
export function applyJitter(ttl: number, fraction: number): number {
  if (fraction === 0) return ttl;
  const spread = ttl * fraction * (2 * Math.random() - 1);
  return Math.max(1, Math.round(ttl + spread));
}
