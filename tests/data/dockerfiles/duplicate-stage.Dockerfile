FROM alpine:3.20 AS tools
RUN apk add --no-cache git=2.45.2-r0
FROM alpine:3.19 AS tools
USER nobody
CMD ["git"]
