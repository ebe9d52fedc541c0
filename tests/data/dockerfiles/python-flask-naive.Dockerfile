FROM python:latest
MAINTAINER jane@example.com
COPY . /app
RUN apt-get update
RUN apt-get install -y python3-dev build-essential
RUN pip install -r /app/requirements.txt
RUN cd /app && pip install flask gunicorn
EXPOSE 5000
CMD gunicorn --bind 0.0.0.0:5000 app:app
