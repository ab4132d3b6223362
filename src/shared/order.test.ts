import { describe, expect, test } from 'bun:test'
import { swapWithNeighbour } from './order'

describe('moving an item up or down a list', () => {
  test('swaps it with its neighbour in that direction, leaving the input untouched', () => {
    const ids = ['a', 'b', 'c']
    expect(swapWithNeighbour(ids, 'b', 'up')).toEqual(['b', 'a', 'c'])
    expect(swapWithNeighbour(ids, 'b', 'down')).toEqual(['a', 'c', 'b'])
    expect(ids).toEqual(['a', 'b', 'c'])
  })

  test('at an edge there is nothing to do (null); an unknown id is undefined', () => {
    expect(swapWithNeighbour(['a', 'b'], 'a', 'up')).toBeNull()
    expect(swapWithNeighbour(['a', 'b'], 'b', 'down')).toBeNull()
    expect(swapWithNeighbour(['a', 'b'], 'z', 'up')).toBeUndefined()
  })
})
