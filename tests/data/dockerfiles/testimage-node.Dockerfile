# pare-test/node: Debian's nodejs running a small express API on port 8080,
# as user nobody. express (pinned by package-lock.json) is installed by
# Debian's npm in a builder stage; the final image has nodejs but not npm.
ARG BASE
FROM $BASE AS deps
RUN --mount=type=bind,source=_host,target=/mnt \
    /mnt/apt-install nodejs npm
WORKDIR /app
COPY package.json package-lock.json /app/
RUN --mount=type=bind,source=_host,target=/mnt \
    . /mnt/env.sh \
 && npm ci --omit=dev --no-audit --no-fund \
 && rm -rf /tmp/npm-cache

FROM $BASE
RUN --mount=type=bind,source=_host,target=/mnt \
    /mnt/apt-install nodejs
WORKDIR /app
COPY --from=deps /app/node_modules /app/node_modules
COPY package.json server.js /app/
USER nobody
EXPOSE 8080
ENTRYPOINT ["/usr/bin/node", "/app/server.js"]
