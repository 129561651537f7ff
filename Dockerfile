# The azk operator image: the package and its pinned dependencies, run as an unprivileged user.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY azk_operator ./azk_operator
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim-bookworm
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --no-create-home azk
USER 10001
# Python writes no .pyc files into a read-only root filesystem, and logs are not buffered.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
EXPOSE 8080 9090
ENTRYPOINT ["azk", "operator", "run"]
CMD ["--all-namespaces", "--liveness", "http://0.0.0.0:8080/healthz", "--metrics", "0.0.0.0:9090"]
