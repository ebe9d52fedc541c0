FROM alpine:3.20
RUN apk update && apk add curl bash
RUN apk add --no-cache ca-certificates=20240705-r0 tzdata
USER nobody
ENTRYPOINT ["curl"]
