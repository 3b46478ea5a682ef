# supernetd server image. Build (see docs/deployment.md):
#   docker build -t supernetd .
# On a machine whose containers have no bridge network, build and run with `--network host`.
#
# The engine runs on its wasm backend here; Dockerfile.native builds the variant with the native
# TensorFlow backend.
#
# Build arguments:
#   NPM_EXTRA_CA       PEM text of extra CA certificates npm must trust (a TLS-inspecting proxy).

# --- manifests: package.json files and the lock, rewritten for a production install -------------
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN node docker/prepare-manifests.cjs /src /manifests

# --- deps: production dependencies of the server workspace (cached until a manifest changes) ----
FROM node:20-bookworm-slim AS deps
ARG NPM_EXTRA_CA=""
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN set -eu; \
    if [ -n "$NPM_EXTRA_CA" ]; then printf '%s\n' "$NPM_EXTRA_CA" > /tmp/extra-ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace services/server --include-workspace-root; \
    # source maps of the dependencies (about 50 MB, mostly @tensorflow/*): nothing reads them at run time
    find node_modules -name '*.map' -type f -delete; \
    rm -rf /root/.npm /tmp/extra-ca.pem

# --- runtime ---------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SUPERNETD_HOST=0.0.0.0 \
    SUPERNETD_PORT=50051 \
    SUPERNETD_DATA_DIR=/data
WORKDIR /app
# Dependencies and sources stay owned by root: the server user can read them, not change them.
COPY --from=deps /app/ ./
COPY tsconfig.json ./
COPY docker/healthcheck.cjs ./docker/
COPY services/api/src ./services/api/src
COPY clients/typescript/src ./clients/typescript/src
COPY services/engine/src ./services/engine/src
COPY services/server/src ./services/server/src
COPY plugins ./plugins
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 50051
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "docker/healthcheck.cjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "services/server/src/cli.ts"]
CMD ["serve"]
