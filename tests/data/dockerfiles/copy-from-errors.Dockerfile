FROM golang:1.22 AS build
COPY . /src
RUN cd /src && go build -o /bin/app .

FROM build AS test
COPY --from=test /bin/app /tmp/app
COPY --from=release /bin/app /tmp/app2

FROM alpine:3.20 AS build
COPY --from=0 /bin/app /bin/app
COPY --from=nginx:1.27 /etc/nginx/nginx.conf /etc/nginx/
COPY --from=5 /x /y
USER nobody
ENTRYPOINT ["/bin/app"]

FROM alpine:3.20 AS release
