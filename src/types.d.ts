// Files imported `with { type: 'file' }` resolve to a path (embedded in the compiled binary).
declare module '*.wasm' {
  const path: string
  export default path
}
declare module '*.data' {
  const path: string
  export default path
}
declare module '*.css' {
  const path: string
  export default path
}
declare module '*.sql' {
  const text: string
  export default text
}
declare module '*.js' {
  const path: string
  export default path
}
declare module '*.woff2' {
  const path: string
  export default path
}
declare module 'lucide-static/dist/esm/icons/*.mjs' {
  const svg: string
  export default svg
}
/// <reference types="@kitajs/html/htmx.d.ts" />
/// <reference types="@kitajs/html/alpine.d.ts" />
