/**
 * "Move up / move down" on an ordered list (keyboard-friendly reordering without drag): the ids in
 * their new order, `null` when the item is already at that edge, `undefined` when it is not there.
 */
export function swapWithNeighbour(
  ids: readonly string[],
  id: string,
  dir: 'up' | 'down',
): string[] | null | undefined {
  const i = ids.indexOf(id)
  if (i < 0) return undefined
  const j = dir === 'up' ? i - 1 : i + 1
  if (j < 0 || j >= ids.length) return null
  const out = [...ids]
  ;[out[i], out[j]] = [out[j]!, out[i]!]
  return out
}
