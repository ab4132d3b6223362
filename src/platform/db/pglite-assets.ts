/**
 * PGlite loads its wasm and file-system bundle by URL, which fails inside a `bun build --compile`
 * binary. Importing them as files makes Bun embed them; we hand them to PGlite ourselves.
 */
import initdbWasm from '../../../node_modules/@electric-sql/pglite/dist/initdb.wasm' with { type: 'file' }
import fsBundle from '../../../node_modules/@electric-sql/pglite/dist/pglite.data' with { type: 'file' }
import pgliteWasm from '../../../node_modules/@electric-sql/pglite/dist/pglite.wasm' with { type: 'file' }

let cached: Promise<{
  pgliteWasmModule: WebAssembly.Module
  initdbWasmModule: WebAssembly.Module
  fsBundle: Blob
}>

export function pgliteAssets() {
  cached ??= (async () => ({
    pgliteWasmModule: await WebAssembly.compile(await Bun.file(pgliteWasm).arrayBuffer()),
    initdbWasmModule: await WebAssembly.compile(await Bun.file(initdbWasm).arrayBuffer()),
    fsBundle: new Blob([await Bun.file(fsBundle).arrayBuffer()]),
  }))()
  return cached
}
