import calculateSlot from 'cluster-key-slot';

/**
 * Groups the positions of `keys` by Redis Cluster hash slot, so a batch becomes one command
 * per slot (a multi-key command must never cross slots).
 */
export function groupBySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = calculateSlot(keys[i]);
    const group = groups.get(slot);
    if (group) group.push(i);
    else groups.set(slot, [i]);
  }
  return [...groups.values()];
}
