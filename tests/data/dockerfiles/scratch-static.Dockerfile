FROM scratch
COPY hello /hello
USER 65534
ENTRYPOINT ["/hello"]
