package dev.mlinfra.testsupport;

import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test resource as Quarkus drives it: init, start, and the configuration it hands over. */
class DevstackResourceTest {

    @Test
    void refusesToStartWithoutADatabase() {
        DevstackResource resource = new DevstackResource();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> resource.init(Map.of()));
        assertTrue(error.getMessage().contains("'database'"), error.getMessage());
    }

    @Test
    void handsOverAWorkingConfigurationForTheServiceDatabase() throws Exception {
        Map<String, String> config = start("datasets");

        assertEquals(Devstack.reactiveUrl("datasets"), config.get("quarkus.datasource.reactive.url"));
        assertTrue(config.get("quarkus.datasource.reactive.url").matches("postgresql://127\\.0\\.0\\.1:\\d+/datasets"));
        try (Connection connection = DriverManager.getConnection(config.get("quarkus.datasource.jdbc.url"),
                config.get("quarkus.datasource.username"), config.get("quarkus.datasource.password"));
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT current_database()")) {
            rows.next();
            assertEquals("datasets", rows.getString(1));
        }

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.get("kafka.bootstrap.servers")))) {
            assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
        }

        assertEquals("us-east-1", config.get("mlinfra.s3.region"));
        assertFalse(config.get("mlinfra.s3.access-key").isBlank());
        assertFalse(config.get("mlinfra.s3.secret-key").isBlank());
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(config.get("mlinfra.s3.endpoint") + "/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, anonymous.statusCode(), "the object store answers and wants signed requests");
        }

        String publicKey = Files.readString(Path.of(URI.create(config.get("mp.jwt.verify.publickey.location"))));
        String privateKey = Files.readString(Path.of(config.get(Devstack.IDENTITY_PRIVATE_KEY_PROPERTY)));
        assertTrue(publicKey.startsWith("-----BEGIN PUBLIC KEY-----"));
        assertTrue(privateKey.startsWith("-----BEGIN PRIVATE KEY-----"));
    }

    @Test
    void everyTestClassSharesOneDevstackAndGetsItsOwnDatabase() throws Exception {
        Map<String, String> first = start("registry");
        String pid = Devstack.state().get("pid");
        Map<String, String> second = start("inference");

        assertEquals(pid, Devstack.state().get("pid"));
        assertEquals(first.get("kafka.bootstrap.servers"), second.get("kafka.bootstrap.servers"));
        assertEquals(first.get("mp.jwt.verify.publickey.location"), second.get("mp.jwt.verify.publickey.location"));
        try (Connection connection = Devstack.connect("inference")) {
            assertTrue(connection.isValid(5));
        }
    }

    @Test
    void kafkaComesBackOnTheSameAddressAfterAStop() throws Exception {
        String bootstrap = Devstack.kafkaBootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));

        Devstack.stopKafka();
        assertFalse(listening(port), "the broker is down");
        Devstack.startKafka();

        assertEquals(bootstrap, Devstack.kafkaBootstrapServers());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
        }
    }

    @Test
    void identityTokensVerifyWithThePublicKeyHandedToServices() throws Exception {
        Map<String, String> config = start("training");
        JWTAuthContextInfo verification = new JWTAuthContextInfo(config.get("mp.jwt.verify.publickey.location"), "mlinfra-gateway");
        verification.setExpectedAudience(Set.of("mlinfra-services"));

        JsonWebToken token = new DefaultJWTParser(verification).parse(TestIdentities.token("team-a", "read", "write"));

        assertEquals("team-a", String.valueOf(token.<Object>getClaim("team")));
        assertEquals(Set.of("read", "write"), token.getGroups());
    }

    @Test
    void explainsHowToBuildAServiceThatIsNotBuilt() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> ServiceProcess.start("no-such-service", "nothing", Map.of()));
        assertTrue(error.getMessage().contains("is not built"), error.getMessage());
        assertTrue(error.getMessage().contains("./mvnw -pl no-such-service"), error.getMessage());
    }

    private static Map<String, String> start(String database) {
        DevstackResource resource = new DevstackResource();
        resource.init(Map.of(DevstackResource.DATABASE, database));
        return resource.start();
    }

    private static boolean listening(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
