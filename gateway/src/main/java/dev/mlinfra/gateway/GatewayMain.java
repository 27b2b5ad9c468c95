package dev.mlinfra.gateway;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Starts the gateway. Quarkus' HTTP layer refuses a request whose path and query are no valid URI
 * (a stray {@code %}, a space) with an empty 400 before any handler runs; that check is turned off
 * here, before Quarkus starts, and the gateway makes it itself ({@code RequestUris}: in its filter,
 * and where the HTTP layer's handlers fail on such a path first, in the failure handler), answering
 * with the API's error object. Tests set the same property through the build ({@code pom.xml}).
 */
@QuarkusMain
public class GatewayMain {

    /** The system property that turns Quarkus' check of the request URI off; read once, when its HTTP layer loads. */
    public static final String URI_VALIDATION_OFF = "vertx.disableURIValidation";

    public static void main(String... args) {
        System.setProperty(URI_VALIDATION_OFF, "true");
        Quarkus.run(args);
    }
}
