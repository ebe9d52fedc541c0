# syntax=docker/dockerfile:1
FROM python:3.12-slim
ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D
ENV PASSWORD_FILE=/run/secrets/db_password
ENV PIP_NO_CACHE_DIR=1
RUN --mount=type=secret,id=pip_token \
    PIP_INDEX_URL="https://__token__:$(cat /run/secrets/pip_token)@pypi.example.org/simple" \
    pip install app==1.4.2
USER nobody
CMD ["python", "-m", "app"]
