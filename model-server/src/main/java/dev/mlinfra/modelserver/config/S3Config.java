package dev.mlinfra.modelserver.config;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** Object store used for {@code s3://} adapter paths (the platform's shared keys). */
@ConfigMapping(prefix = "mlinfra.s3")
public interface S3Config {

    /** S3 endpoint URL. */
    Optional<String> endpoint();

    /** Access key. */
    Optional<String> accessKey();

    /** Secret key. */
    Optional<String> secretKey();

    /** Region. */
    Optional<String> region();
}
