FROM alpine:3.20.2@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5
RUN apk upgrade --no-cache \
 && apk add --no-cache curl=8.9.0-r0
RUN addgroup -S app && adduser -S app -G app
USER app
ENTRYPOINT ["curl"]
