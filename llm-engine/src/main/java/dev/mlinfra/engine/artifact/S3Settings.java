package dev.mlinfra.engine.artifact;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * How to reach the object store for {@code s3://} locations.
 *
 * @param endpoint  S3 endpoint URL (e.g. {@code http://127.0.0.1:9000})
 * @param accessKey access key
 * @param secretKey secret key
 * @param region    region ({@code us-east-1} when absent)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record S3Settings(String endpoint, String accessKey, String secretKey, String region) {

    public S3Settings {
        region = region == null || region.isBlank() ? "us-east-1" : region;
    }

    /** Settings from MLINFRA_S3_ENDPOINT, MLINFRA_S3_ACCESS_KEY, MLINFRA_S3_SECRET_KEY, MLINFRA_S3_REGION, or null. */
    public static S3Settings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** The object store of {@code MLINFRA_S3_ENDPOINT}, {@code _ACCESS_KEY}, {@code _SECRET_KEY}, {@code _REGION}; null without an endpoint. */
    public static S3Settings fromEnvironment(java.util.Map<String, String> environment) {
        String endpoint = environment.get("MLINFRA_S3_ENDPOINT");
        if (endpoint == null || endpoint.isBlank()) {
            return null;
        }
        return new S3Settings(endpoint, environment.get("MLINFRA_S3_ACCESS_KEY"), environment.get("MLINFRA_S3_SECRET_KEY"),
                environment.get("MLINFRA_S3_REGION"));
    }

    @Override
    public String toString() {
        return "S3Settings[endpoint=" + endpoint + ", region=" + region + "]";
    }
}
