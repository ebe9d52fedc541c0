FROM debian:bookworm-slim
RUN useradd -r -u 10001 app
USER app
RUN echo building as app
USER root
CMD ["sleep", "infinity"]
