# syntax=docker/dockerfile:1
# Loved CRM: one container, one binary, one data volume.
#
#   docker build -t loved-crm .
#   docker run --rm -v loved-data:/data loved-crm create-admin --email ... --password ... --org ...
#   docker run -d -p 3000:3000 -v loved-data:/data -e BASE_URL=https://crm.example.com loved-crm
#
# With the embedded database, run one-off commands (migrate, create-admin) while the server is
# stopped: PGlite is single-process and two processes must never open /data/pg at once.
#
# The runtime image holds only the compiled executable (`bun run build`): PGlite, the migrations,
# the views and public/ are embedded in it. The embedded database and the generated secret key live
# in /data; set DATABASE_URL to use a real Postgres instead.

ARG BUN_VERSION=1.4.5

# ---- build: install from the lockfile, compile src/main.ts into dist/loved ----
FROM oven/bun:${BUN_VERSION} AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY tsconfig.json ./
COPY scripts ./scripts
COPY migrations ./migrations
COPY public ./public
COPY views ./views
COPY src ./src
RUN bun run build && ./dist/loved version

# ---- runtime: slim Debian, non-root, nothing but the binary ----
FROM debian:trixie-slim AS runtime
RUN groupadd --system --gid 10001 loved \
 && useradd --system --uid 10001 --gid loved --home-dir /data --no-create-home --shell /usr/sbin/nologin loved \
 && mkdir /data && chown loved:loved /data
COPY --from=build /src/dist/loved /usr/local/bin/loved

ENV DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000
VOLUME ["/data"]
WORKDIR /data
USER loved
EXPOSE 3000

# The binary doubles as its own probe (BUN_BE_BUN=1 makes it behave as the `bun` it embeds), so the
# image needs no curl. It reads PORT: change the port through the environment, not a --port flag.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/bin/sh", "-c", "BUN_BE_BUN=1 exec /usr/local/bin/loved -e \"fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))\""]

# SIGTERM (docker stop) drains in-flight requests and closes the database cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loved"]
CMD ["serve"]
