ARG REGISTRY=docker.io
ARG TAG=latest
ARG BASE
FROM ${REGISTRY}/library/debian:${TAG}
FROM $BASE AS custom
FROM ${REGISTRY}/library/debian:${DEBIAN_TAG:-bookworm-slim} AS final
USER nobody
CMD ["true"]
