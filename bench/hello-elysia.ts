/** The baseline of bench/http.bench.ts: Elysia's hello world on the same runtime, PORT from the env. */
import { Elysia } from 'elysia'

new Elysia()
  .get('/', () => 'Hello World')
  .listen({ port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' })
