FROM python:3.12-slim
WORKDIR /app
ONBUILD COPY requirements.txt .
ONBUILD RUN pip install -r requirements.txt
ONBUILD COPY . .
USER nobody
CMD ["python", "app.py"]
