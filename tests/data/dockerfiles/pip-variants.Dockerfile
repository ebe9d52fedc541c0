FROM python:3.12-slim
RUN pip3 install requests==2.32.3 'urllib3>=2' --no-cache-dir
RUN python3 -m pip install numpy pandas
RUN pip install --no-cache-dir -e .
RUN pip install --no-cache-dir ./wheels/app-1.0-py3-none-any.whl
RUN --mount=type=cache,target=/root/.cache/pip pip install scipy==1.14.0
USER nobody
CMD ["python3"]
