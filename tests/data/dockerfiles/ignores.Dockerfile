FROM debian:bookworm-slim
# hadolint global ignore=DL3008
# hadolint ignore=DL3015,DL3009
RUN apt-get update && apt-get install -y curl
# pare-ignore=cd-in-run
RUN cd /tmp && ls
# hadolint ignore=DL3025
CMD ls -la
USER nobody
