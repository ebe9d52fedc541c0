FROM debian:bookworm-slim
RUN apt-get update \
# the tools we need at run time
    && apt-get install -y --no-install-recommends \
        ca-certificates \
#       curl  (no longer needed)
        jq \
    && rm -rf /var/lib/apt/lists/*

USER nobody
ENTRYPOINT ["jq"]
