# cliffscape: the app on uvicorn, as a non-root user, with Numba's kernels compiled at build time.
#   docker build -t cliffscape .
#   docker run -p 8000:8000 -e CLIFFSCAPE_WORKERS=2 cliffscape
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NUMBA_CACHE_DIR=/home/cliffscape/numba-cache \
    CLIFFSCAPE_HOST=0.0.0.0 \
    CLIFFSCAPE_PORT=8000

RUN useradd --create-home --uid 10001 cliffscape
WORKDIR /home/cliffscape/app
COPY --chown=cliffscape:cliffscape . .

USER cliffscape
# The same install as the README and CI, then compile every kernel into NUMBA_CACHE_DIR,
# so that no request (and no restart) pays for compiling.
RUN ./scripts/install \
    && mkdir -p "$NUMBA_CACHE_DIR" \
    && .venv/bin/python -c 'from app.main import warm_up; warm_up()'

ENV PATH="/home/cliffscape/app/.venv/bin:$PATH"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CLIFFSCAPE_PORT', '8000') + '/healthz', timeout=2)"]
CMD ["cliffscape", "--host", "0.0.0.0"]
