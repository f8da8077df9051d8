# Silt's container image: `docker build -t silt:0.1.0 .`
#
# Two stages on Node 22 LTS. The build stage has the compiler toolchain that hnswlib-node (a
# native addon) needs, installs every dependency, compiles src/ to dist/ (`npm run build`, tsc)
# and then drops the development dependencies (typescript, tsx, the test tools). The runtime
# stage gets only those production node_modules and the compiled JavaScript, and runs it with
# plain node as the unprivileged `node` user: no tsx, no TypeScript at run time.

FROM node:22-bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# glibc gives each thread (query pool, build pool, libuv) its own malloc arena and returns little of
# it: a 1M-document node kept 2.6 GB of RSS after indexing with the default, 1.4 GB with 2
# (docs/benchmarks.md, scale).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
# bin/silt.mjs runs dist/ (there is no src/ here): `docker exec … npx silt stats` works too.
COPY bin ./bin
COPY config ./config
# /etc/silt/config.toml: a single-node configuration that works in a container (listen on every
# interface, objects under /var/lib/silt/data). Deployments mount their own file over it
# (examples/distributed/). /var/cache/silt is cache.disk_path in every example: mount a volume
# there so the disk cache survives restarts. Both directories belong to `node` so a fresh named
# volume mounted on them inherits that ownership.
# /app/cache is the default cache.disk_path ("./cache"), for configuration files that leave it out.
RUN mkdir -p /etc/silt /var/cache/silt /var/lib/silt/data /app/cache \
    && printf '%s\n' \
        '# Single node inside the container image. Mount your own file here for anything else.' \
        '[server]' \
        'host = "0.0.0.0"' \
        'port = 3000' \
        '[storage.local]' \
        'root_path = "/var/lib/silt/data"' \
        '[cache]' \
        'disk_path = "/var/cache/silt"' \
        > /etc/silt/config.toml \
    && chown -R node:node /var/cache/silt /var/lib/silt /app/cache
USER node
EXPOSE 3000
# Silt's own handler: stop accepting, finish in-flight requests, flush, exit 0 within
# server.shutdown_timeout_secs (30 s by default). Give the container longer than that to stop
# (docker stop -t 40, compose stop_grace_period, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Liveness only (the process answers HTTP); readiness (/ready: object storage reachable) is for
# orchestrators to check. Assumes server.port = 3000. No curl in the slim image: node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and receives SIGTERM itself; `npm start` would not forward it.
CMD ["node", "dist/main.js", "--config", "/etc/silt/config.toml"]
