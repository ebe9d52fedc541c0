FROM golang:1.22 AS builder
WORKDIR /go/src/app
COPY . .
RUN go mod download
RUN go build -o /app .

FROM debian:bookworm-slim
COPY --from=builder /app /app
COPY --from=bulider /etc/ssl/certs /etc/ssl/certs
ENTRYPOINT /app
