# The triage line's webhook server: a slim image that runs as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY ivr ./ivr
RUN python -m venv /opt/ivr \
 && /opt/ivr/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt .

FROM python:3.11-slim
ENV PATH=/opt/ivr/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLOWS_DIR=/app/flows
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ivr
COPY --from=build /opt/ivr /opt/ivr
COPY flows /app/flows
WORKDIR /app
USER ivr
EXPOSE 8000
# uvicorn finishes in-flight webhooks on SIGTERM before exiting (graceful shutdown).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["ivr", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
