package dev.mlinfra.testsupport;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A service's tests get test support's own classes, never the servers' libraries (Kafka broker,
 * s3proxy, a second logging backend): those run in the devstack process only.
 */
class NoServerLibrariesTest {

    @Test
    void theServersLibrariesStayOffTheTestClassPath() {
        ClassLoader system = ClassLoader.getSystemClassLoader();
        for (String resource : List.of("kafka/Kafka.class", "org/gaul/s3proxy/S3Proxy.class",
                "org/slf4j/simple/SimpleLogger.class", "io/zonky/test/db/postgres/embedded/EmbeddedPostgres.class")) {
            assertNull(system.getResource(resource), resource + " is on the class path of a module using test support");
        }
    }
}
