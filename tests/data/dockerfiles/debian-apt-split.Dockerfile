FROM debian:bookworm
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl ca-certificates
RUN apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
USER nobody
CMD ["bash"]
