import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirLockedError, lockDataDir } from './data-dir-lock'

describe('embedded database lock', () => {
  test('a second process cannot open a data directory in use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loved-lock-'))
    const release = lockDataDir(dir)
    // Another process (a real child) tries to take the same directory.
    const child = Bun.spawnSync([
      process.execPath,
      '-e',
      `const { lockDataDir } = await import(${JSON.stringify(join(import.meta.dir, 'data-dir-lock.ts'))}); try { lockDataDir(${JSON.stringify(dir)}); console.log('locked') } catch (e) { console.log(e.message); process.exit(3) }`,
    ])
    expect(child.exitCode).toBe(3)
    expect(child.stdout.toString()).toContain(`pid ${process.pid}`)
    release()
    expect(existsSync(join(dir, 'loved.lock'))).toBe(false)
  })

  test('a lock left by a dead process is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loved-lock-'))
    const dead = Bun.spawnSync([process.execPath, '-e', 'console.log(process.pid)'])
    writeFileSync(join(dir, 'loved.lock'), dead.stdout.toString().trim())
    const release = lockDataDir(dir)
    release()
  })

  test('the error says which process holds it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loved-lock-'))
    writeFileSync(join(dir, 'loved.lock'), '1') // pid 1 is always alive
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError)
    expect(() => lockDataDir(dir)).toThrow(/pid 1/)
  })
})
