FROM ubuntu:22.04
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
RUN wget -qO- https://get.example.com/install.sh | sudo sh
RUN sh -c "$(curl -fsSL https://raw.example.com/ohmyzsh/install.sh)"
USER ubuntu
CMD ["bash"]
