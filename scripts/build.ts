/**
 * `bun run build`: compile src/main.ts into one self-contained executable, `dist/loved`.
 *
 * Everything the server reads at run time is imported, so Bun embeds it: PGlite's wasm and data
 * bundle and the static assets (`with { type: 'file' }`), the migrations (`with { type: 'text' }`)
 * and the views (plain modules). The binary runs from any directory with only DATA_DIR writable.
 *
 *   bun scripts/build.ts [--outfile dist/loved] [--target bun-linux-arm64] [--no-bytecode]
 *
 * The source map is embedded in the executable (stack traces point at src/...), so the `.map`
 * file Bun writes beside it is removed.
 */
import { rmSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '..')

export interface BuildOptions {
  /** Where the executable goes; default `dist/loved`. */
  outfile?: string
  /** Cross-compile target, e.g. `bun-linux-arm64`; default: this machine. */
  target?: Bun.Build.CompileTarget
  /** Precompile to JavaScriptCore bytecode (faster start); default true. */
  bytecode?: boolean
  quiet?: boolean
}

export async function build(
  opts: BuildOptions = {},
): Promise<{ outfile: string; bytes: number; ms: number }> {
  const started = performance.now()
  const outfile = resolve(ROOT, opts.outfile ?? 'dist/loved')
  const result = await Bun.build({
    entrypoints: [join(ROOT, 'src/main.ts')],
    root: ROOT,
    compile: {
      outfile,
      ...(opts.target ? { target: opts.target } : {}),
      // The server is configured by the environment and its flags only: a bunfig.toml in whatever
      // directory the binary is started from must not change the runtime (preloads, env, ...).
      // `.env` files are still read, as `bun src/main.ts` does.
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
    minify: true,
    sourcemap: 'linked',
    bytecode: opts.bytecode ?? true,
  })
  if (!result.success) {
    for (const log of result.logs) console.error(log)
    throw new Error('build failed')
  }
  rmSync(`${outfile}.map`, { force: true })
  const bytes = statSync(outfile).size
  const ms = Math.round(performance.now() - started)
  if (!opts.quiet)
    console.log(
      `built ${relative(process.cwd(), outfile) || outfile} (${(bytes / 1e6).toFixed(1)} MB) in ${ms} ms`,
    )
  return { outfile, bytes, ms }
}

function parseArgs(argv: string[]): BuildOptions {
  const opts: BuildOptions = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [key, inline] = arg.split('=', 2) as [string, string | undefined]
    const value = () => inline ?? argv[++i]
    if (key === '--outfile') opts.outfile = resolve(process.cwd(), value() ?? '')
    else if (key === '--target') opts.target = value() as Bun.Build.CompileTarget
    else if (key === '--no-bytecode') opts.bytecode = false
    else if (key === '--quiet') opts.quiet = true
    else {
      console.error(
        `unknown argument ${arg}\nusage: bun scripts/build.ts [--outfile PATH] [--target T] [--no-bytecode]`,
      )
      process.exit(2)
    }
  }
  return opts
}

if (import.meta.main) {
  const opts = parseArgs(process.argv.slice(2))
  try {
    await build(opts)
  } catch (err) {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  }
}
