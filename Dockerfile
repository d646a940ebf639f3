# syntax=docker/dockerfile:1
# Multi-stage image of the attendance service. Build: compile TypeScript with the dev
# dependencies. Runtime: production dependencies only, non-root, health-checked.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Native addons (better-sqlite3, sharp) fall back to a source build when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci applies scripts/patches (postinstall) to the installed dependencies.
COPY scripts/patches ./scripts/patches
RUN npm ci
COPY tsconfig.json tsconfig.base.json ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patches ./scripts/patches
# The compilers are needed only while installing; they leave in the same layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev \
 && npm cache clean --force \
 && apt-get purge -y python3 make g++ \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A 64 MB young generation: far fewer scavenge pauses under a lecture hall's check-ins
# (scripts/lib/service-node-flags.ts, docs/multi-node.md).
CMD ["node", "--max-semi-space-size=64", "dist/src/index.js"]
