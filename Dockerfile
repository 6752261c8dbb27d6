# Stowage container image: one image for `serve`, `worker` and `migrate`.
#
#   docker build -t stowage:dev .
#   docker run --rm --read-only --tmpfs /tmp -p 8080:8080 \
#     -e STOWAGE_DATABASE_URL=postgres://... -e STOWAGE_REDIS_URL=redis://... \
#     -e STOWAGE_SECRET_KEY="$(openssl rand -hex 32)" \
#     stowage:dev serve
#
# The entrypoint is the Stowage CLI, so the arguments are a command: `serve` (default),
# `worker`, `migrate`, `migrate --revert`, `create-admin`, `hash-password` or `version`,
# plus `--config FILE`. The root filesystem can be read-only: the process writes only to
# /tmp (mount a tmpfs or an emptyDir there). The dashboard (web/) is built in the build stage and
# served from /app/web/dist.

# Node 22 LTS (Node 20 leaves maintenance in April 2026; the AWS SDK needs 22 from 2027).
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

# ---------------------------------------------------------------------------
# build: full dependency tree, compile TypeScript to dist/
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false

COPY package.json package-lock.json ./
COPY web/package.json ./web/
RUN npm ci --ignore-scripts

COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY src ./src
COPY web ./web
RUN npm run build

# ---------------------------------------------------------------------------
# prod-deps: runtime dependencies only (no devDependencies)
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false

COPY package.json package-lock.json ./
COPY web/package.json ./web/
RUN npm ci --omit=dev --workspaces=false --include-workspace-root --ignore-scripts \
 && npm cache clean --force

# ---------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="stowage" \
      org.opencontainers.image.description="One self-hosted control plane in front of the S3-compatible storage you already run." \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.version="${VERSION}"

# tini as PID 1: forwards SIGTERM/SIGINT to node (serve drains in-flight requests on them)
# and reaps children. npm and its caches are not needed at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /root/.npm

ENV NODE_ENV=production \
    TMPDIR=/tmp
# glibc's allocator for a process that moves bodies through 64 KiB buffers: freed memory stays
# with the process for the next buffers instead of going back to the kernel in bulk and being
# faulted in again page by page. Measured on a 64 MiB upload through the S3 proxy: ~10,000 page
# faults and ~230 ms of CPU without, none and ~110 ms with. bench:proxy starts Stowage with these.
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=17179869184

# A fixed numeric UID/GID so that Kubernetes `runAsNonRoot` can verify it.
# /var/lib/stowage is the home of the root key file (server.secret_key_file), for Docker
# setups that keep it on a volume; a named volume mounted there inherits this ownership.
RUN groupadd --system --gid 10001 stowage \
 && useradd --system --uid 10001 --gid stowage --no-create-home \
      --home-dir /var/lib/stowage --shell /usr/sbin/nologin stowage \
 && mkdir -p /etc/stowage /var/lib/stowage \
 && chown stowage:stowage /var/lib/stowage \
 && chmod 0700 /var/lib/stowage

WORKDIR /app
# Application files stay owned by root: the process cannot modify its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./

USER 10001:10001

# 8080: dashboard API, /healthz, /readyz, /metrics, /api/docs (server.listen)
# 8090: S3 proxy (s3_proxy.listen, when s3_proxy.enabled)
EXPOSE 8080 8090

# Liveness of the dashboard listener, without curl: the port follows STOWAGE_LISTEN
# when it is set (":8080", "0.0.0.0:8080" or "[::]:8080").
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.STOWAGE_LISTEN||':8080').split(':').pop();fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/main.js"]
CMD ["serve"]
