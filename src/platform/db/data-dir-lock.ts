/**
 * The embedded database is one process's: PGlite has no lock of its own, and two processes opening
 * one data directory lose writes (seen: `create-admin` beside a running server, the user vanished).
 * An exclusive lock file holding the owner's pid guards it; a lock left by a dead process is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'loved.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      let released = false
      return () => {
        if (released) return
        released = true
        rmSync(file, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(
          `The embedded database in ${dir} is in use by another Loved process (pid ${pid}). Stop it first, or point DATA_DIR elsewhere.`,
        )
      rmSync(file, { force: true }) // stale: its process is gone
    }
  }
  throw new DataDirLockedError(`Could not lock ${dir}`)
}
