FROM debian:bookworm-slim
ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini /tini
ADD --checksum=sha256:93dcc18adc78c65a028a84799ecf8ad40c936fdfc5f2a57b1acda5a8117fa82c https://github.com/krallin/tini/releases/download/v0.19.0/tini-amd64 /tini2
ADD rootfs.tar.gz /
ADD config.yaml /etc/app/config.yaml
ADD . /srv
RUN chmod +x /tini
USER nobody
ENTRYPOINT ["/tini", "--"]
