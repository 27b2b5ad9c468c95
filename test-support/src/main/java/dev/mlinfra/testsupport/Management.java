package dev.mlinfra.testsupport;

import io.quarkus.test.common.http.TestHTTPResourceManager;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import java.net.URI;

/**
 * The management interface of the application under test ({@code /q/health}, {@code /q/metrics},
 * {@code /q/info}): every service serves these on a port of its own, not on its HTTP port.
 */
public final class Management {

    private Management() {
    }

    /** A request to the management port of the running {@code @QuarkusTest} application. */
    public static RequestSpecification given() {
        return RestAssured.given().baseUri(baseUrl());
    }

    /** {@code http://host:port} of the management interface (paths keep their {@code /q} prefix). */
    public static String baseUrl() {
        URI uri = URI.create(TestHTTPResourceManager.getManagementUri());
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }
}
