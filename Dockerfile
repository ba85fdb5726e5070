# Multi-stage build: compile with the full toolchain, run from a slim image as a non-root user.
# The image has no Postgres of its own: DATABASE_URL is required.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked && strip target/release/shoprecs

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/shoprecs --create-home shoprecs
COPY --from=build /src/target/release/shoprecs /usr/local/bin/shoprecs
USER shoprecs
WORKDIR /var/lib/shoprecs
ENV SHOPRECS_SERVER__HOST=0.0.0.0 \
    SHOPRECS_DATABASE__EMBEDDED=false \
    SHOPRECS_LOG__FORMAT=json
EXPOSE 8080
ENTRYPOINT ["shoprecs"]
CMD ["serve"]
