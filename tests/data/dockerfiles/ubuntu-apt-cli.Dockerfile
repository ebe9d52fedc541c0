FROM ubuntu:24.04
RUN apt update && apt install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
USER www-data
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
