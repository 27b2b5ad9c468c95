package dev.mlinfra.commons.storage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The S3-compatible object store (MinIO, S3, or the devstack's server). */
@ConfigMapping(prefix = "mlinfra.s3")
public interface S3Config {

    /** Endpoint URL, e.g. http://127.0.0.1:9000. */
    String endpoint();

    /** Access key. */
    String accessKey();

    /** Secret key. */
    String secretKey();

    /** Region the requests are signed for. */
    @WithDefault("us-east-1")
    String region();

    /** Bucket that holds every artifact of the platform. */
    @WithDefault("mlinfra")
    String bucket();

    /** Part size of multipart uploads, in bytes (at least 5 MiB). */
    @WithDefault("16777216")
    long partSize();
}
