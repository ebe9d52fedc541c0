FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends wget ca-certificates \
 && wget -qO- https://example.com/tool.tar.gz | tar -xz -C /usr/local/bin \
 && rm -rf /var/lib/apt/lists/*
RUN set -o pipefail && echo hi | tee /tmp/x
USER nobody
ENTRYPOINT ["/usr/local/bin/tool"]
