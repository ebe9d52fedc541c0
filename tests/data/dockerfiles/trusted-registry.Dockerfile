FROM quay.io/prometheus/node-exporter:v1.8.2
FROM ghcr.io/acme/base:1.4 AS base
USER nobody
ENTRYPOINT ["/bin/node_exporter"]
