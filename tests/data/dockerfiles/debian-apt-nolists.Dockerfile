FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates \
        curl \
        jq \
    && apt-get clean
USER nobody
ENTRYPOINT ["jq"]
