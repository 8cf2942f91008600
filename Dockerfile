# The codeexec service. It drives the host's Docker engine through the mounted socket
# and builds the sandbox images from the language folders it ships with on first start.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# pandoc turns Kattis LaTeX statements into HTML (~170 MB); --build-arg PANDOC=false
# leaves it out, and LaTeX statements then answer 406 naming their PDF.
ARG PANDOC=true
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       python3 python3-venv ca-certificates $([ "$PANDOC" = true ] && echo pandoc) \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
# codeexec/http/static/ (the / and /docs pages) is built on the host by `make frontend`
# (also run by `make wheelhouse`), so no Node.js stage and no registry is needed here;
# without it the image serves the API and / and /docs say how to build the pages.
COPY codeexec ./codeexec
# Offline installs: `make wheelhouse` fills dist/wheelhouse/ on the host; with wheels
# there, nothing is fetched from an index. Without them, pip installs from PyPI.
COPY dist/wheelhouse/ /tmp/wheelhouse/
RUN python3 -m venv /opt/venv \
    && if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
         /opt/venv/bin/pip install --no-cache-dir --quiet --no-index --find-links /tmp/wheelhouse codeexec; \
       else \
         /opt/venv/bin/pip install --no-cache-dir --quiet . ; \
       fi \
    && rm -rf /tmp/wheelhouse
ENV PATH=/opt/venv/bin:$PATH \
    CODEEXEC_HOST=0.0.0.0
EXPOSE 8080
CMD ["codeexec", "serve"]
