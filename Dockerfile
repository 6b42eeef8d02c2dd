# One image for the API, the CPU workers and the one-shot migration.
# The build stage compiles the native engine (packages/native: node-gyp with g++, make, python3
# and OpenBLAS's headers); the runtime stage needs only OpenBLAS itself (libopenblas0).
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 libopenblas-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/contracts/package.json packages/contracts/
COPY packages/db/package.json packages/db/
COPY packages/queue/package.json packages/queue/
COPY packages/trainer/package.json packages/trainer/
# The addon's sources before npm ci, which builds it (a workspace's binding.gyp).
COPY packages/native/package.json packages/native/binding.gyp packages/native/
COPY packages/native/src packages/native/src
COPY packages/stats/package.json packages/stats/
COPY packages/webhooks/package.json packages/webhooks/
COPY packages/client/package.json packages/client/
COPY apps/cli/package.json apps/cli/
COPY prisma prisma
COPY prisma.config.ts ./
COPY scripts scripts
# Build tools stay in the image: db:migrate and the CLIs run through tsx.
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
RUN npm run build && test -f packages/native/build/Release/actlab_native.node

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas0 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production CHECKPOINT_DISABLE=1
COPY --from=build /app /app
# The image has no .git: runs record this commit in their provenance
# (`docker build --build-arg ACTLAB_COMMIT=$(git rev-parse HEAD) .`).
ARG ACTLAB_COMMIT=
ENV ACTLAB_COMMIT=${ACTLAB_COMMIT}
EXPOSE 3000
CMD ["node", "apps/api/dist/server.js"]
