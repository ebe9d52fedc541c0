# pare-test/cli: a command-line image with no port. jq from Debian; reads its
# arguments, prints something deterministic.
ARG BASE
FROM $BASE
RUN --mount=type=bind,source=_host,target=/mnt \
    /mnt/apt-install jq
COPY sample.json /usr/share/pare-test/sample.json
USER nobody
WORKDIR /usr/share/pare-test
ENTRYPOINT ["/usr/bin/jq"]
CMD ["-c", "{name, total: (.items | add)}", "/usr/share/pare-test/sample.json"]
