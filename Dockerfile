# logfilter in a container: `logfilter serve` beside a node, data on a volume.
#
#   docker build -t logfilter .
#   docker run -p 8645:8645 -v logfilter-data:/data logfilter \
#       --upstream ws://geth:8546 --vhosts '*'
#
# Multi-stage: the build stage compiles wheels (plyvel bundles LevelDB; safe-pysha3 and
# pyroaring compile here); the runtime stage installs only those wheels, with no compiler.

FROM python:3.11-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bloombits ./bloombits
COPY chainindex ./chainindex
COPY rpc ./rpc
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin logfilter \
 && mkdir -p /data && chown logfilter:logfilter /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER logfilter
VOLUME ["/data"]
EXPOSE 8645
# Listen on every interface inside the container: the port is published by the runtime.
# Every flag can also come from LOGFILTER_<FLAG> variables or a --config file.
ENV LOGFILTER_DATADIR=/data/chain \
    LOGFILTER_HOST=0.0.0.0
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8645/health', timeout=4).status != 200)"
ENTRYPOINT ["logfilter", "serve"]
