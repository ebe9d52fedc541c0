FROM debian:bookworm-slim
ARG APP_USER=app
RUN useradd -r "$APP_USER"
USER ${APP_USER}
ENTRYPOINT ["/bin/true"]
