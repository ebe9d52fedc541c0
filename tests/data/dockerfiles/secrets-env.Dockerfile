FROM python:3.12-slim
ARG GITHUB_TOKEN
ENV DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app
ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
ENV API_KEY=changeme
RUN pip install --no-cache-dir git+https://${GITHUB_TOKEN}@github.com/acme/private-lib.git
USER nobody
CMD ["python", "-m", "app"]
