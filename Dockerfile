# syntax=docker/dockerfile:1
# Sluice image: one image for every role (api, scheduler, worker, standalone).
#   docker build -t sluice:0.1.0 .
#   docker run --rm -p 8080:8080 sluice:0.1.0            # standalone demo on SQLite
# Kubernetes manifests run `sluice api|scheduler|worker` from it (see docs/kubernetes.md).

# ---- build: compile TypeScript and the web UI with every dependency ----
FROM node:20-bookworm-slim AS build
WORKDIR /src
# A compiler only in case a native module (better-sqlite3) has no prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile before the sources are here; the native modules are built just below.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY ui ./ui
COPY templates ./templates
COPY examples ./examples
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime: production dependencies and the compiled output only ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SLUICE_HOME=/var/lib/sluice \
    SLUICE_DAGS_FOLDER=/opt/sluice/dags \
    SLUICE_API__HOST=0.0.0.0
WORKDIR /opt/sluice
# git: Sluice's git bundles (bundles config) fetch and check out pipeline commits in the
# scheduler, the workers and task pods. ca-certificates: HTTPS remotes, Slack and SMTP over TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid so Kubernetes can verify runAsNonRoot (the manifests use the same 10001).
RUN groupadd --gid 10001 sluice \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/sluice --no-create-home --shell /usr/sbin/nologin sluice \
 && mkdir -p /var/lib/sluice \
 && chown 10001:10001 /var/lib/sluice
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/ui ./dist/ui
COPY --from=build /src/bin ./bin
COPY --from=build /src/templates ./templates
# Example DAGs as the default folder; mount or git-sync your own over /opt/sluice/dags.
# Inside the package folder, so `import { dag } from "sluice"` resolves to this Sluice.
COPY --from=build /src/examples/dags ./dags
# `sluice` on the PATH: the Kubernetes manifests run ["sluice", "worker"] and the like.
RUN ln -s /opt/sluice/bin/sluice.js /usr/local/bin/sluice
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "bin/sluice.js"]
CMD ["standalone"]
