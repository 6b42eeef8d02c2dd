# One image for the API, the CPU workers and the one-shot migration.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/contracts/package.json packages/contracts/
COPY packages/db/package.json packages/db/
COPY packages/queue/package.json packages/queue/
COPY packages/trainer/package.json packages/trainer/
COPY packages/stats/package.json packages/stats/
COPY packages/client/package.json packages/client/
COPY apps/cli/package.json apps/cli/
COPY prisma prisma
COPY prisma.config.ts ./
COPY scripts scripts
# Build tools stay in the image: db:migrate and the CLIs run through tsx.
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["node", "apps/api/dist/server.js"]
