# registre serve in a container, on the official Node.js 20 image. The project (registre.yaml, its
# key file, its SQLite files, or the URLs of its servers through env: variables) is mounted at /data.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY registers ./registers
COPY schema ./schema
COPY tsconfig.json tsconfig.build.json ./
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /data
COPY --from=build /app /app
ENV NODE_ENV=production
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["node", "/app/bin/registre.js", "serve", "--host", "0.0.0.0", "--port", "8080"]
