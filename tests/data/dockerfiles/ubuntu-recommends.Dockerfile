FROM ubuntu:22.04
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y python3 python3-pip && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get install python3-venv && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get -qq install libssl3 && rm -rf /var/lib/apt/lists/*
USER 1000:1000
CMD ["python3"]
