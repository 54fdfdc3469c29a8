# syntax=docker/dockerfile:1
# The after-sales service as a static binary on a distroless image, running as
# a non-root user with its embedded database and media under the /data volume.
#   docker build -t aftersales .
#   docker run -p 8080:8080 -v aftersales-data:/data aftersales

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (the SQLite driver needs no cgo): a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/aftersales ./cmd/aftersales \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aftersales /usr/local/bin/aftersales
COPY --from=build --chown=65532:65532 /out/data /data
ENV AFTERSALES_ADDR=0.0.0.0:8080 \
    AFTERSALES_DATA_DIR=/data \
    AFTERSALES_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/aftersales", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/aftersales"]
CMD ["serve"]
