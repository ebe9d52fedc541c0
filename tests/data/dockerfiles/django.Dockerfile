FROM python:3.11
ENV PYTHONUNBUFFERED=1
WORKDIR /code
COPY requirements.txt /code/
RUN pip install --upgrade pip && pip install -r requirements.txt
COPY . /code/
RUN python manage.py collectstatic --noinput
CMD python manage.py runserver 0.0.0.0:8000
