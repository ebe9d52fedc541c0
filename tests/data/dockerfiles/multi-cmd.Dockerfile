FROM alpine:3.20
HEALTHCHECK CMD ["true"]
CMD ["echo", "first"]
ENTRYPOINT ["/bin/sh", "-c"]
HEALTHCHECK --interval=5s CMD ["true"]
CMD ["echo", "second"]
ENTRYPOINT ["/bin/sh"]
USER nobody
